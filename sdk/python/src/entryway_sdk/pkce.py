"""PKCE (RFC 7636) with S256, the only method Entryway accepts."""

from __future__ import annotations

import base64
import hashlib
import secrets

from entryway_sdk.errors import ArgumentError


def code_verifier() -> str:
    """A fresh verifier: 64 URL-safe characters (48 random bytes)."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128:
        raise ArgumentError("a PKCE code_verifier must be a string of 43 to 128 characters")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def random_token() -> str:
    """For `state` and `nonce`."""
    return secrets.token_urlsafe(24)
