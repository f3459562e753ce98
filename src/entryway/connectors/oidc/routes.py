"""The relying party's HTTP surface (CONTRACT §4): the redirect URI. Thin: the work is in callback.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from entryway.connectors.oidc.callback import finish_login
from entryway.connectors.oidc.logout import returned_logout
from entryway.oidc_provider import signing
from entryway.oidc_provider.logout import finish_app_logout
from entryway.web.pages import error_page
from entryway.web.requests import client_ip, current_environment, runtime

router = APIRouter(include_in_schema=False)


@router.get("/sso/v1/oidc/{connection_id}/callback")
async def oidc_callback(request: Request, connection_id: str) -> Response:
    rt = runtime(request)
    env = current_environment(request)
    # The code exchange and the key fetches are blocking HTTP: keep them off the event loop.
    return await run_in_threadpool(finish_login, rt, env, connection_id, request.query_params, client_ip(request))


@router.get("/sso/v1/oidc/{connection_id}/logout")
def upstream_logout_landing(request: Request, connection_id: str) -> Response:
    """Where the IdP sends the browser after ending its session: finish the app's logout."""
    rt = runtime(request)
    env = current_environment(request)
    try:
        target, state = returned_logout(rt, env, connection_id, request.query_params.get("state"))
    except signing.InvalidToken:
        return error_page(
            "Sign-out could not be completed",
            "This sign-out link is not valid or has expired. You are signed out at your identity provider.",
            code="invalid_request",
            status=400,
        )
    return finish_app_logout(rt, env, target, state)
