"""Server-rendered pages: one Jinja environment per process (templates are compiled once, not per request)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

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


def render(template: str, context: dict[str, Any], *, status: int = 200, csp: str = BASE_CSP) -> HTMLResponse:
    body = jinja().get_template(template).render(**context)
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
    title: str, message: str, *, code: str, status: int = 400, reference: str | None = None, hint: str | None = None
) -> HTMLResponse:
    return render(
        "error.html",
        {"title": title, "message": message, "code": code, "reference": reference, "hint": hint},
        status=status,
    )
