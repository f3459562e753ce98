"""The SP's HTTP surface (CONTRACT §4): the ACS, the SLO endpoint and the SP metadata. Thin: the work is in
callback.py and slo.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from entryway.connectors.saml.callback import finish_login, load_connection
from entryway.connectors.saml.metadata import MEDIA_TYPE, cached_metadata
from entryway.connectors.saml.slo import single_logout
from entryway.web.pages import error_page
from entryway.web.requests import client_ip, current_environment, request_environment, runtime
from entryway.web.routing import plain_route
from entryway.web.step_runner import run_step

router = APIRouter(include_in_schema=False)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is (or says it will be) longer than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@plain_route(router, "/sso/v1/saml/{connection_id}/callback", "POST")  # a login step: web/routing.py
async def assertion_consumer_service(request: Request) -> Response:
    connection_id: str = request.path_params["connection_id"]
    rt = runtime(request)
    env = await request_environment(request)
    body = await _read_limited(request, rt.settings.max_saml_response_bytes)
    # Parsing, signature checks and a few statements on the database: a login step (web/step_runner.py).
    return await run_step(
        rt.settings,
        finish_login,
        rt,
        env,
        connection_id,
        body,
        request.headers.get("content-type"),
        client_ip(request),
    )


@router.get("/sso/v1/saml/{connection_id}/slo")
async def single_logout_redirect(request: Request, connection_id: str) -> Response:
    rt = runtime(request)
    env = current_environment(request)
    # The raw query: the Redirect binding's signature covers its octets exactly as they were sent.
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    return await run_in_threadpool(
        single_logout,
        rt,
        env,
        connection_id,
        raw_query=raw_query,
        body=None,
        content_type=None,
        client_ip=client_ip(request),
    )


@router.post("/sso/v1/saml/{connection_id}/slo")
async def single_logout_post(request: Request, connection_id: str) -> Response:
    rt = runtime(request)
    env = await request_environment(request)
    body = await _read_limited(request, rt.settings.max_saml_response_bytes)
    return await run_in_threadpool(
        single_logout,
        rt,
        env,
        connection_id,
        raw_query=None,
        body=body,
        content_type=request.headers.get("content-type"),
        client_ip=client_ip(request),
    )


@router.get("/sso/v1/saml/{connection_id}/metadata")
def sp_metadata(request: Request, connection_id: str) -> Response:
    rt = runtime(request)
    env = current_environment(request)
    connection = load_connection(rt, env, connection_id)
    if connection is None:
        return error_page(
            "Not found", "No SAML connection of this environment has that ID.", code="invalid_connection_id", status=404
        )
    return Response(
        cached_metadata(rt, connection, env.url),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
