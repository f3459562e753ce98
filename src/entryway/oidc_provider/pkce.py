"""Proof Key for Code Exchange (RFC 7636), S256 only.

§4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). The "plain" method is refused: it
protects nothing against an attacker who can read the authorization request (RFC 9700 §2.1.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

S256 = "S256"
# §4.1: code-verifier = 43*128unreserved. A challenge is accepted in the same length range, base64url only.
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


def valid_challenge(challenge: str) -> bool:
    return _CHALLENGE.match(challenge) is not None


def valid_verifier(verifier: str) -> bool:
    return _VERIFIER.match(verifier) is not None


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def verifier_matches(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(s256(verifier), challenge)
