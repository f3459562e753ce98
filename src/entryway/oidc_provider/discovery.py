"""Discovery (OpenID Connect Discovery 1.0 §3, RFC 8414) and the JWKS: what an SDK reads before a login."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from entryway.keys.rotation import JWKS_MAX_AGE
from entryway.oidc_provider.claims import SUPPORTED_CLAIMS
from entryway.oidc_provider.login_scopes import SUPPORTED_SCOPES
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.web.requests import request_environment, request_runtime

router = APIRouter(include_in_schema=False)

# Long enough to spare SDKs a fetch per login, short enough that a key rotation (keys are published before
# they sign) is seen well before the new key signs: keys/rotation.py's minimum grace is built on this max-age.
PUBLIC_CACHE = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}", "Vary": "Host"}


def provider_metadata(env: Environment) -> dict[str, Any]:
    base = env.url
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/keys",
        "userinfo_endpoint": f"{base}/userinfo",
        "end_session_endpoint": f"{base}/oidc/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": list(SUPPORTED_CLAIMS),
    }


@router.get("/.well-known/openid-configuration")
def openid_configuration(env: Environment = Depends(request_environment)) -> JSONResponse:
    return JSONResponse(provider_metadata(env), headers=PUBLIC_CACHE)


@router.get("/keys")
def keys(env: Environment = Depends(request_environment), rt: Runtime = Depends(request_runtime)) -> JSONResponse:
    return JSONResponse({"keys": rt.keyring.jwks(env.id, rt.clock.now())}, headers=PUBLIC_CACHE)
