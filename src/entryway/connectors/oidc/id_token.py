"""Validating the IdP's ID token (OpenID Connect Core §3.1.3.7) before anything in it is believed.

The algorithm comes from a closed allow-list of public-key algorithms: never `none`, never HMAC (a JWKS
"public key" used as an HMAC secret would let anyone forge tokens). The key comes from the IdP's JWKS only,
and must be of the type the algorithm needs. Times are checked against Entryway's clock with the
configured skew, so tests can move time.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from entryway.connectors.oidc.discovery import ProviderConfig
from entryway.connectors.oidc.fetch import FetchError
from entryway.connectors.oidc.jwks import candidate_keys
from entryway.model.errors import LoginError
from entryway.runtime import Runtime

ALLOWED_ALGORITHMS = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}
MAX_TOKEN_CHARS = 16 * 1024
TENANT_PLACEHOLDER = "{tenantid}"  # Entra ID multi-tenant discovery (IDP-FACTS §3.2)


@dataclass(frozen=True)
class Expected:
    provider: ProviderConfig
    client_id: str
    nonce: str
    now: datetime
    skew_seconds: int


def _refuse(message: str, wanted: Any, got: Any, **extra: Any) -> LoginError:
    return LoginError.wanted_got("invalid_id_token", message, wanted, got, **extra)


def token_header(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise _refuse("The IdP sent no usable ID token", "a compact JWT", "none or an oversized value")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _refuse("The IdP's ID token is not a JWT", "a signed JWT (JWS)", "an unreadable token") from exc
    return header


def check_algorithm(header: dict[str, Any], provider: ProviderConfig) -> str:
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise _refuse(
            "The IdP's ID token is signed with an algorithm Entryway does not accept",
            sorted(ALLOWED_ALGORITHMS),
            str(alg)[:20],
        )
    if provider.signing_algs and alg not in provider.signing_algs:
        raise _refuse(
            "The ID token's algorithm is not one the IdP's discovery document announces",
            list(provider.signing_algs),
            alg,
        )
    return str(alg)


def key_matches(jwk: dict[str, Any], alg: str) -> bool:
    """A key may verify only tokens of its own kind: an RSA key never verifies an EC or HMAC token."""
    if jwk.get("kty") != ALLOWED_ALGORITHMS[alg]:
        return False
    return jwk.get("alg") in (None, alg)


def expected_issuer(provider: ProviderConfig, claims: dict[str, Any]) -> str:
    if TENANT_PLACEHOLDER in provider.issuer and isinstance(claims.get("tid"), str):
        return provider.issuer.replace(TENANT_PLACEHOLDER, claims["tid"])
    return provider.issuer


def verify_signature(token: str, alg: str, keys: list[tuple[dict[str, Any], jwt.PyJWK]], kid: Any) -> dict[str, Any]:
    usable = [key for jwk, key in keys if key_matches(jwk, alg)]
    if not usable:
        raise _refuse(
            "The IdP's ID token is signed with a key the IdP does not publish",
            "a kid listed in the IdP's JWKS, of the token's key type",
            str(kid)[:80] if kid else "no kid",
        )
    for key in usable:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                options={
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            return claims
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise _refuse("The IdP's ID token could not be decoded", "a well-formed JWT", type(exc).__name__) from exc
    raise _refuse("The IdP's ID token signature does not verify", "a valid signature", "a bad signature")


def _numeric(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"The ID token has no {name}", f"{name} (seconds since the epoch)", value)
    return float(value)


def check_claims(claims: dict[str, Any], expected: Expected) -> None:
    issuer = expected_issuer(expected.provider, claims)
    if claims.get("iss") != issuer:
        raise _refuse("The ID token was issued by another issuer", issuer, str(claims.get("iss"))[:200])
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise _refuse("The ID token has no subject", "sub (1-255 characters)", claims.get("sub"))
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if expected.client_id not in audiences:
        raise _refuse("The ID token is meant for another client", expected.client_id, aud)
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != expected.client_id:
        raise _refuse("The ID token's authorized party is another client", expected.client_id, azp)
    now = expected.now.timestamp()
    exp = _numeric(claims, "exp")
    iat = _numeric(claims, "iat")
    if exp <= now - expected.skew_seconds:
        raise _refuse("The ID token has expired", f"exp after {int(now)}", int(exp))
    if iat > now + expected.skew_seconds:
        raise _refuse("The ID token was issued in the future (check the clocks)", f"iat before {int(now)}", int(iat))
    if "nbf" in claims and _numeric(claims, "nbf") > now + expected.skew_seconds:
        raise _refuse("The ID token is not valid yet", f"nbf before {int(now)}", claims["nbf"])
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expected.nonce.encode()):
        raise _refuse(
            "The ID token does not answer this login (nonce mismatch)",
            "the nonce Entryway sent",
            "no nonce" if nonce is None else "another nonce",
        )


def validate_id_token(rt: Runtime, token: Any, expected: Expected) -> dict[str, Any]:
    """The ID token's claims once signature, algorithm, issuer, audience, times and nonce all hold."""
    header = token_header(token)
    alg = check_algorithm(header, expected.provider)
    kid = header.get("kid")
    try:
        keys = candidate_keys(rt, expected.provider.jwks_uri, kid if isinstance(kid, str) else None)
    except FetchError as exc:
        raise LoginError("invalid_id_token", "The IdP's signing keys could not be fetched", exc.diagnosis) from exc
    claims = verify_signature(token, alg, keys, kid)
    check_claims(claims, expected)
    return claims
