"""`GET /tls/permission?domain=NAME`: may the reverse proxy get a TLS certificate for NAME on demand?

Caddy's on-demand TLS asks such an endpoint before it requests a certificate for a name it has none for, and
takes any 2xx as yes (docs/deployment.md, "Custom domains and on-demand TLS"). Like /healthz it answers on any
Host: the proxy asks from its own address, not as a browser on an environment's URL.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from entryway.services.custom_domains import may_have_certificate
from entryway.web.requests import runtime

router = APIRouter()

MAX_NAME = 253  # the longest DNS name


@router.get("/tls/permission", include_in_schema=False)
def tls_permission(request: Request) -> Response:
    names = request.query_params.getlist("domain")
    if len(names) != 1 or not names[0] or len(names[0]) > MAX_NAME:
        body = {
            "error": "invalid_request",
            "error_description": "give one domain parameter, the name a certificate is for (?domain=sso.acme.com)",
        }
        return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})
    with runtime(request).engine.connect() as conn:
        allowed = may_have_certificate(conn, names[0])
    if allowed:
        return JSONResponse({"domain": names[0], "allowed": True}, headers={"Cache-Control": "no-store"})
    refused: dict[str, object] = {
        "domain": names[0],
        "allowed": False,
        "error": "not_found",
        "error_description": "no environment serves this name, and none has set it as its custom domain",
    }
    return JSONResponse(refused, status_code=404, headers={"Cache-Control": "no-store"})
