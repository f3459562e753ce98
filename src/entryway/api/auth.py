"""Who is calling the management API: a client-credentials access token, its client, and its scopes.

The scopes a call may use are those the token carries AND the client still holds, so narrowing a client's
scopes (or deleting it) takes effect at once, not when its tokens expire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from entryway.model.errors import ApiError
from entryway.model.scopes import MANAGEMENT_SCOPES, client_scopes
from entryway.oidc_provider import access_tokens
from entryway.oidc_provider.signing import InvalidToken
from entryway.services import credentials
from entryway.services.credentials import Client
from entryway.services.environments import Environment
from entryway.web.requests import api_environment, runtime

_CHALLENGE = 'Bearer realm="entryway"'


@dataclass(frozen=True)
class Caller:
    environment: Environment
    client: Client
    scopes: frozenset[str]

    def holds_all(self, scopes: list[str]) -> bool:
        return set(client_scopes(scopes)) <= self.scopes


def _unauthenticated(message: str, error: str | None = None) -> ApiError:
    challenge = _CHALLENGE + (f', error="{error}"' if error else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise _unauthenticated("Send an access token: Authorization: Bearer <token> (from client_credentials)")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("The Authorization header must be: Bearer <token>", "invalid_request")
    return token


def _token_scopes(claims: dict[str, object]) -> set[str]:
    raw = claims.get("scopes")
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        return set()  # not a client-credentials token: it grants no management scope
    return set(client_scopes(raw))


def authenticate(request: Request) -> Caller:
    cached = getattr(request.state, "api_caller", None)
    if isinstance(cached, Caller):
        return cached
    env = api_environment(request)
    rt = runtime(request)
    token = _bearer_token(request)
    try:
        claims = access_tokens.verify(rt, env, token)
    except InvalidToken as exc:
        raise _unauthenticated(
            "The access token is invalid or expired: get a new one from /oauth/token", "invalid_token"
        ) from exc
    client_id = claims.get("client_id")
    with rt.engine.connect() as conn:
        client = credentials.get_client(conn, client_id) if isinstance(client_id, str) else None
    if client is None or client.environment_id != env.id:
        raise _unauthenticated("The access token's client is not a client of this environment", "invalid_token")
    caller = Caller(env, client, frozenset(_token_scopes(claims) & set(client_scopes(client.scopes))))
    request.state.api_caller = caller
    return caller


def require(scope: str) -> Callable[[Request], Caller]:
    """A FastAPI dependency: the authenticated caller, who must hold `scope` (403 otherwise)."""
    if scope not in MANAGEMENT_SCOPES:
        raise ValueError(f"{scope!r} is not a management scope")  # a typo in a route, caught at import

    def dependency(request: Request) -> Caller:
        caller = authenticate(request)
        if scope not in caller.scopes:
            raise ApiError(403, f"The access token does not grant the scope {scope}")
        return caller

    return dependency
