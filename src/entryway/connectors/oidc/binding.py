"""The values that tie an upstream OIDC login to one auth request: state, nonce and the PKCE verifier.

Only the state is stored (as the auth request's upstream_request_id, a unique column); the nonce and the
verifier are derived from it with HMAC under a random secret of the installation (keys/installation.py, sealed
at rest). They are as unguessable as random values to anyone without that secret, no extra column or row is
needed to keep them, and a master-key rotation does not change them mid-login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from entryway.keys.installation import OIDC_UPSTREAM_BINDING, installation_secret
from entryway.runtime import Runtime

_KEY_LABEL = b"entryway/oidc-upstream-login/v1"


def new_state() -> str:
    return secrets.token_urlsafe(32)


def _derive(rt: Runtime, purpose: str, state: str) -> str:
    key = hmac.new(installation_secret(rt, OIDC_UPSTREAM_BINDING), _KEY_LABEL, hashlib.sha256).digest()
    digest = hmac.new(key, f"{purpose}:{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def nonce_for(rt: Runtime, state: str) -> str:
    return _derive(rt, "nonce", state)


def verifier_for(rt: Runtime, state: str) -> str:
    """A 43-character RFC 7636 code verifier (32 bytes of entropy, base64url)."""
    return _derive(rt, "pkce", state)


def challenge_for(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
