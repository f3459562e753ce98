"""Rendering portal pages: the context every page shares (organization, session timer, UI events, CSRF) and
the framing policy (only the environment's registered app origins may frame the portal)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse

from entryway.portal.framing import app_origins, exact_origins, portal_csp
from entryway.runtime import Runtime
from entryway.services.organizations import get_organization
from entryway.web.pages import render
from entryway.web.session_cookies import LiveSession

# PORTAL_SESSION_WARNING is posted this long before the session ends.
WARN_BEFORE_SECONDS = 300


def portal_page(
    rt: Runtime,
    live: LiveSession,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    events: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    with rt.engine.connect() as conn:
        org = get_organization(conn, live.env.id, live.session.subject)
    origins = app_origins(rt, live.env.id)
    seconds_left = max(0, int((live.session.ends_at() - rt.clock.now()).total_seconds()))
    shared = {
        "org": org,
        "env": live.env,
        "csrf": live.csrf,
        "portal_data": {
            "origins": exact_origins(origins),
            "events": events or [],
            "seconds_left": seconds_left,
            "warn_before": WARN_BEFORE_SECONDS,
            "organization_id": org.id,
        },
    }
    return render(template, {**shared, **context}, status=status, csp=portal_csp(origins), organization_id=org.id)


def framable_error(rt: Runtime, env_id: str, response: HTMLResponse) -> HTMLResponse:
    """An error page the embedding app can show in its frame (same frame-ancestors as the portal)."""
    response.headers["Content-Security-Policy"] = portal_csp(app_origins(rt, env_id))
    return response
