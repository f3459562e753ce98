"""`GET /tls/permission?domain=NAME`: may the reverse proxy get a TLS certificate for NAME on demand?

Caddy's on-demand TLS asks such an endpoint before it requests a certificate for a name it has none for, and
takes any 2xx as yes (docs/deployment.md, "Reverse proxy and TLS"). Like /healthz it answers on any Host: the
proxy asks from its own address, not as a browser on an environment's URL. Only the proxy may ask (a loopback
address, or one of ENTRYWAY_TRUSTED_PROXIES): the answers name pending custom domains, which are not public yet.
"""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from entryway.services.custom_domains import may_have_certificate
from entryway.web.requests import is_trusted_proxy, runtime

router = APIRouter()

MAX_NAME = 253  # the longest DNS name


@router.get("/tls/permission", include_in_schema=False)
def tls_permission(request: Request) -> Response:
    if not _from_the_proxy(request):
        return _answer(
            403,
            error="access_denied",
            error_description="only the reverse proxy may ask: call from a loopback address or one listed in "
            "ENTRYWAY_TRUSTED_PROXIES",
        )
    names = request.query_params.getlist("domain")
    if len(names) != 1 or not names[0] or len(names[0]) > MAX_NAME:
        return _answer(
            400,
            error="invalid_request",
            error_description="give one domain parameter, the name a certificate is for (?domain=sso.acme.com)",
        )
    with runtime(request).engine.connect() as conn:
        allowed = may_have_certificate(conn, names[0])
    if allowed:
        return _answer(200, domain=names[0], allowed=True)
    return _answer(
        404,
        domain=names[0],
        allowed=False,
        error="not_found",
        error_description="no environment serves this name, and none has set it as its custom domain",
    )


def _answer(status: int, **body: object) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _from_the_proxy(request: Request) -> bool:
    peer = request.client.host if request.client else None
    if peer is None:
        return False
    try:
        if ipaddress.ip_address(peer.strip("[]")).is_loopback:
            return True
    except ValueError:
        return False
    return is_trusted_proxy(runtime(request).settings.trusted_proxies, peer)
