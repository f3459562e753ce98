"""/readyz: may this process take traffic? Its database answers, its schema is one this release's code works on,
and it can open the data keys. /healthz (liveness) checks none of this: a database outage must take instances
out of the load balancer, not get them restarted.

The schema is compared both ways. Behind (a migration not yet run, or none at all) is unready. Ahead (a revision
this release does not know: a newer release migrated the database) is ready, as "ahead_compatible", only when
every migration applied after this release's head says the previous release's code keeps working after it
(schema_history, store/schema_history.py): that is a rolling upgrade in progress. Otherwise it is unready, and the
body says which, because the operator's fix differs: run `entryway migrate`, or deploy the newer code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway.observability.database_failures import failure_kind
from entryway.runtime import Runtime
from entryway.store.schema_history import newer_revisions_compatible
from entryway.store.schema_version import known_revisions, revision_of

OK = 200
UNAVAILABLE = 503
# The migration states this process may serve on.
SERVABLE = frozenset({"current", "ahead_compatible"})


def migration_state(current: str | None, head: str | None, known: frozenset[str]) -> str:
    """ "current", "behind" (an older revision of this release, or none) or "ahead" (a revision it does not know;
    `readiness` then asks schema_history whether it is "ahead_compatible")."""
    if current == head:
        return "current"
    if current is None or current in known:
        return "behind"
    return "ahead"


def readiness(rt: Runtime, head: str | None, known: frozenset[str] | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /readyz; `head` is read once at start (the scripts do not change while serving)."""
    try:
        with rt.engine.connect() as conn:
            current = revision_of(conn)
            migrations = migration_state(current, head, known if known is not None else known_revisions())
            # The history is read only while the database is ahead: at the head, /readyz costs what it did.
            if migrations == "ahead" and head and current and newer_revisions_compatible(conn, head, current):
                migrations = "ahead_compatible"
        if migrations not in SERVABLE:
            return UNAVAILABLE, _body("unavailable", "ok", migrations, "unknown")
        # e.g. started without the master key the data keys are wrapped by now
        secrets = "ok" if rt.sealer.unlockable() else "locked"
    except (DBAPIError, PoolTimeout) as exc:
        kind = failure_kind(exc)
        if kind is None:
            raise
        # Every pooled connection taken, or the check waited past lock_timeout or statement_timeout: the database
        # answers, but slowly, so no new traffic.
        database = "unreachable" if kind == "unreachable" else "busy"
        return UNAVAILABLE, _body("unavailable", database, "unknown", "unknown")
    if secrets != "ok":
        return UNAVAILABLE, _body("unavailable", "ok", migrations, secrets)
    return OK, _body("ok", "ok", migrations, "ok")


def _body(status: str, database: str, migrations: str, secrets: str) -> dict[str, Any]:
    return {"status": status, "database": database, "migrations": migrations, "secrets": secrets}
