"""GET/POST /userinfo (OIDC Core §5.3): the profile claims of the login an access token was issued for.

Errors follow RFC 6750 §3: 401 with a `WWW-Authenticate: Bearer` challenge, never the JSON error body of the
token endpoint.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from entryway.oidc_provider import access_tokens, codes
from entryway.oidc_provider.claims import user_claims
from entryway.oidc_provider.signing import InvalidToken
from entryway.runtime import Runtime
from entryway.services.connections import find_connection
from entryway.services.environments import Environment
from entryway.web.requests import request_environment, request_runtime

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


def _challenge(description: str | None = None) -> JSONResponse:
    if description is None:
        # §3.1: a request without credentials gets the challenge alone, no error code.
        header = 'Bearer realm="entryway"'
        body = {"error": "invalid_token", "error_description": "A Bearer access token is required"}
    else:
        header = f'Bearer realm="entryway", error="invalid_token", error_description="{description}"'
        body = {"error": "invalid_token", "error_description": description}
    return JSONResponse(body, status_code=401, headers={**NO_STORE, "WWW-Authenticate": header})


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


@router.api_route("/userinfo", methods=["GET", "POST"])
def userinfo(
    request: Request, env: Environment = Depends(request_environment), rt: Runtime = Depends(request_runtime)
) -> JSONResponse:
    token = bearer_token(request)
    if token is None:
        return _challenge()
    try:
        claims = access_tokens.verify(rt, env, token)
    except InvalidToken:
        return _challenge("The access token is invalid, expired or revoked")
    with rt.engine.connect() as conn:
        grant = codes.find_by_issued_token(conn, env.id, claims["jti"])
        connection = find_connection(conn, env.id, grant.connection_id) if grant is not None else None
    if grant is None or connection is None:
        # A client-credentials token, or a login whose connection was deleted since: no user to describe.
        return _challenge("The access token was not issued for a user login")
    return JSONResponse(user_claims(grant.profile, connection), headers=NO_STORE)
