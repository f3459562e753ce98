"""Claim checks for the three kinds of JWT an app meets: ID tokens, access tokens and IdP-initiated login tokens."""

from __future__ import annotations

from typing import Any

import jwt

from entryway_sdk.errors import TokenValidationError
from entryway_sdk.keys import ALGORITHM


def decode(
    token: str,
    key: jwt.PyJWK,
    *,
    issuer: str,
    audience: str | None,
    leeway: float,
    required: tuple[str, ...] = ("exp", "iat", "iss"),
) -> dict[str, Any]:
    options: dict[str, Any] = {"require": list(required), "verify_aud": audience is not None}
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options=options,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenValidationError("the token has expired") from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenValidationError(f"the token was not issued by {issuer}") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenValidationError(f"the token is not meant for {audience}") from exc
    except jwt.PyJWTError as exc:
        raise TokenValidationError(f"the token is not valid: {exc}") from exc
    return claims


def check_id_token(claims: dict[str, Any], client_id: str, nonce: str | None) -> dict[str, Any]:
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenValidationError("the ID token's nonce does not match the one sent with the login")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise TokenValidationError("the ID token's azp names another client")
    if not isinstance(claims.get("sub"), str):
        raise TokenValidationError("the ID token has no subject")
    return claims


def check_idp_initiated(claims: dict[str, Any]) -> dict[str, Any]:
    for name in ("connection_id", "organization_id"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise TokenValidationError(f"the IdP-initiated login token has no {name}")
    return claims
