"""Rendering dashboard pages: the shared layout's context (who is signed in, the CSRF token, a fresh
submission token, the navigation) and the page's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse

from entryway.dashboard.forms import NOTICES, new_submission
from entryway.web.pages import render

if TYPE_CHECKING:
    from entryway.dashboard.session import Owner

NAV = (
    ("overview", "/dashboard", "Overview"),
    ("credentials", "/dashboard/credentials", "Credentials"),
    ("redirects", "/dashboard/redirects", "Redirects"),
    ("organizations", "/dashboard/organizations", "Organizations"),
    ("portal_links", "/dashboard/portal-links", "Portal links"),
    ("logs", "/dashboard/logs", "Auth log"),
    ("webhooks", "/dashboard/webhooks", "Webhooks"),
    ("branding", "/dashboard/branding", "Branding"),
    ("custom_domain", "/dashboard/custom-domain", "Custom domain"),
    ("checklist", "/dashboard/checklist", "Checklist"),
)

# Pages may frame nothing and be framed by nothing; scripts and styles are inline only (no third parties).
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src 'unsafe-inline'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def page(template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    return render(template, context, status=status, csp=CSP)


def owner_page(
    owner: Owner,
    template: str,
    section: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return page(
        template,
        {
            "env": owner.live.env,
            "owner_email": owner.email,
            "csrf": owner.live.csrf,
            "submission": new_submission(),
            "nav": NAV,
            "section": section,
            "notice": NOTICES.get(notice or "", None),
            "error": error,
            **context,
        },
        status=status,
    )
