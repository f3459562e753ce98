"""Access tokens (CONTRACT §3.3): app-login tokens and client-credentials tokens for the management API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from entryway.ids import new_id
from entryway.oidc_provider import signing
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.store.tables import revoked_tokens


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int


def mint(
    rt: Runtime,
    env: Environment,
    *,
    client_id: str,
    subject: str,
    ttl_seconds: int,
    organization_id: str | None = None,
    session_id: str | None = None,
    scopes: list[str] | None = None,
) -> IssuedToken:
    now = rt.clock.now()
    jti = new_id("jti")
    claims: dict[str, Any] = {
        "iss": env.url,
        "sub": subject,
        "aud": [client_id],
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": jti,
        "client_id": client_id,
    }
    if organization_id is not None:
        claims["oid"] = organization_id
    if session_id is not None:
        claims["sid"] = session_id
    if scopes is not None:
        claims["scopes"] = scopes
    return IssuedToken(signing.sign(rt, env, claims, typ="at+jwt"), jti, ttl_seconds)


def verify(rt: Runtime, env: Environment, token: str) -> dict[str, Any]:
    """Verify an access token and check it was not revoked (a reused code revokes what it issued)."""
    claims = signing.verify(rt, env, token)
    jti = claims.get("jti")
    if not isinstance(jti, str):
        raise signing.InvalidToken("the token has no jti")
    with rt.engine.connect() as conn:
        if conn.execute(select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first() is not None:
            raise signing.InvalidToken("the token was revoked")
    return claims
