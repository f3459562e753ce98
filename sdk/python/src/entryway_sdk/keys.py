"""The environment's published signing keys (`/keys`), cached for the life of the client.

Entryway publishes a key before it signs with it and keeps it published after it retires, so the cache only
needs refreshing when a token names a `kid` it has not seen: it refetches then, once. A short cool-down keeps
a stream of tokens with made-up `kid`s from turning into a stream of JWKS requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt

from entryway_sdk.errors import TokenValidationError, TransportError

JWKS_PATH = "/keys"
ALGORITHM = "RS256"


class KeyCache:
    def __init__(self, refetch_cooldown_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._cooldown = refetch_cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def should_fetch(self, kid: str) -> bool:
        """Whether `kid` is unknown and a (re)fetch is allowed now."""
        if kid in self._keys:
            return False
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._cooldown

    def load(self, document: Any) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise TransportError("the JWKS document has no 'keys' list")
        parsed: dict[str, jwt.PyJWK] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if (
                entry.get("kty") != "RSA"
                or entry.get("alg", ALGORITHM) != ALGORITHM
                or entry.get("use", "sig") != "sig"
            ):
                continue
            try:
                parsed[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except jwt.PyJWKError:
                continue  # one unusable key must not hide the others
        with self._lock:
            self._keys = parsed
            self._fetched_at = self._clock()


def token_kid(token: str) -> str:
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenValidationError("not a JWT (three dot-separated parts expected)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenValidationError(f"unreadable JWT header: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenValidationError(f"the token is signed with {header.get('alg')!r}; only RS256 is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenValidationError("the token header names no kid")
    return kid


def unknown_key(kid: str) -> TokenValidationError:
    return TokenValidationError(f"no published key has kid {kid!r}: the token was not issued by this environment")
