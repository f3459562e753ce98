"""Signed cookie values: JSON, an issue time, and an HMAC-SHA256 over both with the app's secret key.

The login cookie (state, nonce, PKCE verifier) and the session cookie (the ID token) are readable by the
browser but cannot be forged or altered, and each expires on its own clock as well as the browser's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

from entryway_sdk.errors import ArgumentError

MIN_SECRET_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    def __init__(self, secret_key: str | bytes, purpose: str) -> None:
        key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        if not isinstance(key, bytes) or len(key) < MIN_SECRET_BYTES:
            raise ArgumentError(f"secret_key must be at least {MIN_SECRET_BYTES} bytes: use secrets.token_urlsafe(32)")
        # one key per purpose, so a login cookie can never be replayed as a session cookie
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, value: Any, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = _b64(json.dumps(value, separators=(",", ":")).encode()) + "." + str(issued)
        return body + "." + self._mac(body)

    def loads(self, text: str | None, max_age_seconds: int, now: float | None = None) -> Any | None:
        """The value, or None when the cookie is absent, altered, or older than max_age_seconds."""
        if not text or text.count(".") != 2:
            return None
        payload, issued, mac = text.split(".")
        if not hmac.compare_digest(mac, self._mac(f"{payload}.{issued}")) or not issued.isdigit():
            return None
        current = time.time() if now is None else now
        if not 0 <= current - int(issued) <= max_age_seconds:
            return None
        try:
            return json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
