"""The IdP's signing keys (RFC 7517), cached per JWKS URL and fetched again when a token names a kid the
cache does not hold (the IdP rotated its keys). Refetches are spaced by REFETCH_SECONDS so that tokens with
made-up kids cannot turn Entryway into a load generator against the IdP. The cache keeps the MAX_KEY_SETS most
recently fetched key sets: with 100,000 organizations, one per IdP would otherwise grow a worker without bound;
a key set dropped from it is fetched again at its next login.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from entryway.connectors.oidc.fetch import FetchError, request_json
from entryway.outbound import policy_for
from entryway.recent_cache import keep_recent
from entryway.runtime import Runtime

CACHE_SECONDS = 3600
REFETCH_SECONDS = 10
MAX_KEYS = 50
MAX_KEY_SETS = 256
_lock = threading.Lock()


@dataclass(frozen=True)
class KeySet:
    fetched_at: datetime
    keys: tuple[tuple[str | None, dict[str, Any], jwt.PyJWK], ...]  # (kid, the JWK as published, parsed)

    def find(self, kid: str | None) -> list[tuple[dict[str, Any], jwt.PyJWK]]:
        if kid is None:
            return [(jwk, key) for _, jwk, key in self.keys]
        return [(jwk, key) for found, jwk, key in self.keys if found == kid]


def _parse(doc: Any, url: str, now: datetime) -> KeySet:
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise FetchError(
            "The IdP's JWKS is not a key set", {"wanted": '{"keys": […]}', "got": "another JSON", "url": url}
        )
    parsed: list[tuple[str | None, dict[str, Any], jwt.PyJWK]] = []
    for jwk in doc["keys"][:MAX_KEYS]:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or jwk.get("kty") == "oct":
            continue  # encryption keys and symmetric keys never verify an ID token
        try:
            key = jwt.PyJWK(jwk)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue  # a key of a type PyJWT cannot use is simply not a candidate
        kid = jwk.get("kid")
        parsed.append((kid if isinstance(kid, str) else None, jwk, key))
    return KeySet(now, tuple(parsed))


def fetch_key_set(rt: Runtime, url: str) -> KeySet:
    """The key set at `url`, fetched now (and kept in the cache for the logins that follow)."""
    fresh = _parse(request_json("GET", url, policy=policy_for(rt.settings)), url, rt.clock.now())
    cache: dict[str, KeySet] = rt.caches.setdefault("oidc_jwks", {})  # type: ignore[assignment]
    with _lock:
        keep_recent(cache, url, fresh, MAX_KEY_SETS)
    return fresh


def candidate_keys(rt: Runtime, url: str, kid: str | None) -> list[tuple[dict[str, Any], jwt.PyJWK]]:
    """The published keys that may have signed a token with this kid (all keys when it has none)."""
    cache: dict[str, KeySet] = rt.caches.setdefault("oidc_jwks", {})  # type: ignore[assignment]
    now = rt.clock.now()
    current = cache.get(url)
    if current is not None and now - current.fetched_at < timedelta(seconds=CACHE_SECONDS):
        found = current.find(kid)
        if found or now - current.fetched_at < timedelta(seconds=REFETCH_SECONDS):
            return found
    return fetch_key_set(rt, url).find(kid)
