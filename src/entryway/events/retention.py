"""Event retention: events older than ENTRYWAY_EVENT_RETENTION_DAYS go, with their deliveries and attempts.

Deleting an event cascades to its deliveries and their attempts (foreign keys, ON DELETE CASCADE). The purge
runs in small batches, each its own short transaction, so it never holds locks for long on a busy database.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from entryway.runtime import Runtime
from entryway.store.tables import events

BATCH = 500


def purge_events(rt: Runtime) -> int:
    """Delete every event past the retention period; returns how many went."""
    cutoff = rt.clock.now() - timedelta(days=rt.settings.event_retention_days)
    removed = 0
    while True:
        with rt.engine.begin() as conn:
            ids = list(conn.scalars(select(events.c.id).where(events.c.occurred_at < cutoff).limit(BATCH)))
            if ids:
                conn.execute(delete(events).where(events.c.id.in_(ids)))
        removed += len(ids)
        if len(ids) < BATCH:
            return removed
