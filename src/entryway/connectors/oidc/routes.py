"""The relying party's HTTP surface (CONTRACT §4): the redirect URI. Thin: the work is in callback.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from entryway.connectors.oidc.callback import finish_login
from entryway.web.requests import client_ip, current_environment, runtime

router = APIRouter(include_in_schema=False)


@router.get("/sso/v1/oidc/{connection_id}/callback")
async def oidc_callback(request: Request, connection_id: str) -> Response:
    rt = runtime(request)
    env = current_environment(request)
    # The code exchange and the key fetches are blocking HTTP: keep them off the event loop.
    return await run_in_threadpool(finish_login, rt, env, connection_id, request.query_params, client_ip(request))
