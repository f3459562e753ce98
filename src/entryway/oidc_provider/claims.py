"""The claims of Entryway's ID tokens and userinfo responses (CONTRACT §3.3, OIDC Core §2, §3.3.2.11, §5.1).

The user claims come from the normalized Profile the connector returned; the protocol claims bind the token
to the client, the login session, the nonce, the access token (at_hash) and the code (c_hash).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from entryway.model.connections import SsoConnection
from entryway.model.profile import Profile

# Names a custom attribute may never take: JWT registered claims, OIDC ID-token and standard claims, and
# Entryway's own. A custom attribute called "email" or "sub" would otherwise let an IdP admin (or a mapping
# mistake) forge the identity the app trusts.
REGISTERED_CLAIMS = frozenset(
    {
        # RFC 7519 §4.1
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
        # OIDC Core §2 and §3.3.2.11, RP-initiated logout
        "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid",
        # OIDC Core §5.1 standard claims
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
        "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
        "phone_number", "phone_number_verified", "address", "updated_at",
        # Entryway's own
        "oid", "groups", "identities", "client_id", "scopes", "scope", "typ", "cnf", "org_id",
    }
)  # fmt: skip

SUPPORTED_CLAIMS: tuple[str, ...] = (
    "iss", "sub", "aud", "exp", "iat", "azp", "amr", "oid", "sid", "nonce", "at_hash", "c_hash",
    "email", "email_verified", "name", "given_name", "family_name", "preferred_username", "groups", "identities",
)  # fmt: skip


def half_hash(value: str) -> str:
    """at_hash / c_hash for RS256: base64url of the left-most half of SHA-256 of the ASCII value."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def subject(connection_id: str, profile: Profile) -> str:
    """`sub` = "<connection_id>;<IdP user id>": unique across connections, stable for one IdP user."""
    return f"{connection_id};{profile.subject}"


def user_claims(profile: Profile, connection: SsoConnection) -> dict[str, Any]:
    """The claims about the user, as both the ID token and /userinfo carry them."""
    claims: dict[str, Any] = {
        "sub": subject(connection.id, profile),
        "oid": connection.organization_id,
        "email": profile.email,
        "email_verified": profile.email_verified,
        "preferred_username": profile.preferred_username or profile.email,
    }
    # OIDC Core §5.3.2: a claim without a value is omitted, not sent as null.
    optional = {"name": profile.display_name, "given_name": profile.given_name, "family_name": profile.family_name}
    claims.update({name: value for name, value in optional.items() if value})
    if profile.groups is not None:
        claims["groups"] = list(profile.groups)
    for name, value in profile.custom_attributes.items():
        if name not in REGISTERED_CLAIMS:
            claims[name] = value
    claims["identities"] = [
        {
            "connection_id": connection.id,
            "organization_id": connection.organization_id,
            "connection_type": connection.type.value,
            "provider_name": connection.provider.value,
            "provider_raw_attributes": profile.raw_attributes,
        }
    ]
    return claims


@dataclass(frozen=True)
class TokenBinding:
    """What an ID token is bound to besides the user: the client, login session, nonce, access token, code."""

    client_id: str
    session_id: str
    nonce: str | None
    access_token: str
    code: str


def id_token_claims(
    issuer: str, user: dict[str, Any], binding: TokenBinding, connection_id: str, now: datetime, ttl_seconds: int
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": [binding.client_id],
        "azp": binding.client_id,
        "amr": [connection_id],
        "sid": binding.session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "at_hash": half_hash(binding.access_token),
        "c_hash": half_hash(binding.code),
    }
    if binding.nonce is not None:
        claims["nonce"] = binding.nonce
    return {**user, **claims}
