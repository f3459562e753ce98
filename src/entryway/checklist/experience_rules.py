"""Checklist rules on what people meet when something goes wrong or looks unfamiliar: the branding of the
hosted pages (login errors, the portal) and whether the app's backend hears about failed logins."""

from __future__ import annotations

from sqlalchemy import select

from entryway.checklist.findings import Finding, Inputs, passed, warned
from entryway.events.endpoints import list_endpoints
from entryway.store.tables import environment_branding

FAILURE_EVENT = "sso.login_failed"


def branding(i: Inputs) -> Finding:
    """Name, accent colour, logo and favicon set: every hosted page (error pages included) then shows the app's
    brand instead of Entryway's."""
    title = "Branding (and branded error pages)"
    row = i.conn.execute(select(environment_branding).where(environment_branding.c.environment_id == i.env.id)).first()
    wanted = {
        "display_name": "name",
        "accent_color": "accent colour",
        "logo_image_id": "logo",
        "favicon_image_id": "favicon",
    }
    missing = [label for column, label in wanted.items() if row is None or not getattr(row, column)]
    if not missing:
        return passed("branding", title, "name, accent colour, logo and favicon are set; error pages carry them")
    return warned(
        "branding",
        title,
        "not set: " + ", ".join(missing) + " — users and IT admins see Entryway's defaults on error pages and "
        "in the portal",
        "Set them with `entryway branding set` or PATCH /api/v1/environment/branding (docs/branding.md)",
    )


def failure_webhooks(i: Inputs) -> Finding:
    title = "Failure webhooks"
    endpoints = [e for e in list_endpoints(i.conn, i.env.id) if FAILURE_EVENT in e.event_types]
    enabled = [e for e in endpoints if e.status == "ENABLED"]
    fix = (
        "Register an endpoint subscribed to sso.login_failed (POST /api/v1/webhooks), so failed logins reach your "
        "backend and alerting as they happen"
    )
    if enabled:
        return passed("failure_webhooks", title, f"{enabled[0].url} receives sso.login_failed")
    if endpoints:
        reasons = "; ".join(f"{e.url}: {e.disabled_reason or 'disabled'}" for e in endpoints)
        return warned(
            "failure_webhooks",
            title,
            f"the endpoint(s) subscribed to sso.login_failed are disabled ({reasons})",
            "Fix the receiver, then re-enable it (PATCH /api/v1/webhooks/{id} with status ENABLED)",
        )
    return warned("failure_webhooks", title, "no webhook endpoint is subscribed to sso.login_failed", fix)
