"""/readyz: may this process take traffic? Its database answers, its schema is the one this release's code was
written for, and it can open the data keys. /healthz (liveness) checks none of this: a database outage must
take instances out of the load balancer, not get them restarted.

The schema is compared both ways. Behind (a migration not yet run, or none at all) and ahead (a revision this
release does not know: the database was migrated by a newer release, e.g. during a rollback) are both unready,
and the body says which, because the operator's fix differs: run `entryway migrate`, or deploy the newer code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from entryway.runtime import Runtime
from entryway.store.schema_version import current_revision, known_revisions

OK = 200
UNAVAILABLE = 503


def migration_state(current: str | None, head: str | None, known: frozenset[str]) -> str:
    """ "current", "behind" (an older revision of this release, or none) or "ahead" (a revision it does not know)."""
    if current == head:
        return "current"
    if current is None or current in known:
        return "behind"
    return "ahead"


def readiness(rt: Runtime, head: str | None, known: frozenset[str] | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /readyz; `head` is read once at start (the scripts do not change while serving)."""
    try:
        current = current_revision(rt.engine)
        migrations = migration_state(current, head, known if known is not None else known_revisions())
        if migrations != "current":
            return UNAVAILABLE, _body("unavailable", "ok", migrations, "unknown")
        # e.g. started without the master key the data keys are wrapped by now
        secrets = "ok" if rt.sealer.unlockable() else "locked"
    except OperationalError:
        return UNAVAILABLE, _body("unavailable", "unreachable", "unknown", "unknown")
    if secrets != "ok":
        return UNAVAILABLE, _body("unavailable", "ok", "current", secrets)
    return OK, _body("ok", "ok", "current", "ok")


def _body(status: str, database: str, migrations: str, secrets: str) -> dict[str, Any]:
    return {"status": status, "database": database, "migrations": migrations, "secrets": secrets}
