"""What every dashboard form shares: a one-time submission token (a form sent twice changes nothing the second
time) and the fixed notices shown after a change (never text taken from the request)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Connection, delete

from entryway.runtime import Runtime
from entryway.store.insert_if_absent import insert_if_absent
from entryway.store.tables import form_submissions

SUBMISSION_FIELD = "submission"
KEEP_SUBMISSIONS = timedelta(days=2)

ALREADY_SUBMITTED = "This form was already sent, so nothing was changed a second time. The page shows the result."

NOTICES = {
    "secret_deactivated": "The secret was deactivated: it no longer authenticates.",
    "secret_activated": "The secret was reactivated.",
    "secret_deleted": "The secret was deleted.",
    "redirect_added": "The URI was added.",
    "redirect_removed": "The URI was removed.",
    "initiate_set": "The initiate-login URL was saved.",
    "initiate_cleared": "The initiate-login URL was removed.",
    "org_created": "The organization was created.",
    "org_deleted": "The organization was deleted.",
    "domain_added": "The domain was added. Publish the TXT record below, then verify it.",
    "domain_deleted": "The domain was removed.",
    "domain_verified": "The domain is verified.",
    "domain_not_verified": "The TXT record was not found yet; DNS changes can take a while to appear.",
    "connection_created": "The connection was created as a draft. Configure it, then enable it.",
    "connection_enabled": "The connection is enabled: logins can use it.",
    "connection_disabled": "The connection is disabled: logins through it now fail with connection_not_active.",
    "connection_deleted": "The connection was deleted.",
    "connection_configured": "The connection was saved. Enable it when the IdP side is ready.",
    "already_submitted": ALREADY_SUBMITTED,
    "branding_saved": "The branding was saved: every hosted page shows it now.",
    "custom_domain_set": "The domain was saved. Publish the DNS record below, then verify it. "
    "Nothing changes for the app until it is verified.",
    "custom_domain_removed": "The custom domain was removed: the environment is served at its own URL only.",
    "link_revoked": "The link was revoked: it no longer opens the portal, and the sessions it opened have ended.",
}


def new_submission() -> str:
    return secrets.token_urlsafe(24)


def claim(rt: Runtime, conn: Connection, env_id: str, token: str | None) -> bool:
    """Record the form's token in the change's own transaction; False when it was already used (or is absent).

    A conflict-free insert, so the loser of a race (a double click) sees False without aborting its
    transaction (PostgreSQL would abort it on a unique violation).
    """
    if not token or len(token) > 64:
        return False
    now = rt.clock.now()
    # RETURNING, not rowcount: psycopg reports rowcount -1 for INSERT … ON CONFLICT DO NOTHING here.
    inserted = conn.execute(
        insert_if_absent(
            conn, form_submissions, "token", token=token, environment_id=env_id, create_time=now
        ).returning(form_submissions.c.token)
    ).first()
    if inserted is None:
        return False
    # Old tokens only guard against a resend; a few days on they are dead weight.
    conn.execute(delete(form_submissions).where(form_submissions.c.create_time < now - KEEP_SUBMISSIONS))
    return True
