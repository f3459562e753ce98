"""Signing and verifying Entryway's own JWTs with the environment's RS256 keys (loaded once per process)."""

from __future__ import annotations

from typing import Any

import jwt

from entryway.runtime import Runtime
from entryway.services.environments import Environment


def sign(rt: Runtime, env: Environment, claims: dict[str, Any], typ: str = "JWT") -> str:
    key = rt.keyring.active(env.id, "oidc", now=rt.clock.now())
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": typ})


class InvalidToken(Exception):
    """The token is not one this environment issued, or it is expired, revoked or malformed."""


def verify(
    rt: Runtime,
    env: Environment,
    token: str,
    *,
    audience: str | list[str] | None = None,
    verify_expiry: bool = True,
) -> dict[str, Any]:
    """Verify an Entryway-issued JWT: RS256 only, a kid published for this environment, issuer, expiry.

    The issuer may be either of the environment's URLs (its own, or its verified custom domain): a token got on
    one route is good on the other while an app moves to the custom domain.

    `verify_expiry=False` is for hints only (an expired id_token_hint still says who is logging out).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is not a JWT") from exc
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise InvalidToken("the token is not signed with RS256 by a published key")
    if kid not in {k["kid"] for k in rt.keyring.jwks(env.id, rt.clock.now())}:
        raise InvalidToken("the token's key is not published by this environment")
    public_key = rt.keyring.by_kid(kid).private_key.public_key()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            issuer=env.issuers,
            audience=audience,
            options={"require": ["exp", "iat", "iss"], "verify_aud": audience is not None, "verify_exp": verify_expiry},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return claims
