"""Server-rendered pages: one Jinja environment per process (templates are compiled once, not per request).

Every page extends `templates/base.html`, which draws the branding (`brand` in the template context: logo,
favicon, display name, accent colour as CSS custom properties). `render` finds the branding itself, from the
environment the current request was routed to; a page about one organization passes `organization_id=` to get
that organization's name and logo overrides, and a preview passes an explicit `branding=`. See
`entryway.services.branding` for the resolution order.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError

from entryway.services.branding import DEFAULT_BRANDING, Branding, resolve_branding
from entryway.web.page_context import current_request
from entryway.web.requests import InsecureRequest, UnknownHost, current_environment, runtime

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"

# Hosted pages never need third-party content; forms post only to ourselves, except the SAML POST binding,
# whose auto-submitting form targets the IdP or ACS (hence form-action * on those pages only).
BASE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def jinja() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), auto_reload=False
    )


def page_branding(organization_id: str | None = None) -> Branding:
    """The branding of the current request's environment (and organization); the defaults outside any.

    Never raises: a page, above all an error page, must render even when the branding cannot be read.
    """
    request = current_request()
    if request is None:
        return DEFAULT_BRANDING
    try:
        env = current_environment(request)
        return resolve_branding(runtime(request), env.id, organization_id)
    except (UnknownHost, InsecureRequest):
        return DEFAULT_BRANDING
    except SQLAlchemyError as exc:
        log.warning("branding unavailable, default branding shown: %s", type(exc).__name__)
        return DEFAULT_BRANDING


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    csp: str = BASE_CSP,
    branding: Branding | None = None,
    organization_id: str | None = None,
) -> HTMLResponse:
    brand = branding if branding is not None else page_branding(organization_id)
    body = jinja().get_template(template).render(**context, brand=brand)
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def error_page(
    title: str,
    message: str,
    *,
    code: str,
    status: int = 400,
    reference: str | None = None,
    hint: str | None = None,
    organization_id: str | None = None,
    branding: Branding | None = None,
) -> HTMLResponse:
    return render(
        "error.html",
        {"title": title, "message": message, "code": code, "reference": reference, "hint": hint},
        status=status,
        organization_id=organization_id,
        branding=branding,
    )
