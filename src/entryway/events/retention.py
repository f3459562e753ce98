"""Event retention: events older than ENTRYWAY_EVENT_RETENTION_DAYS go, with their deliveries and attempts.

Deleting an event cascades to its deliveries and their attempts (foreign keys, ON DELETE CASCADE). An event
with a delivery still PENDING is kept, however old: an endpoint disabled for failing keeps its pending
deliveries until it is enabled again, when they resume (docs/webhooks.md), and retention must not drop them
meanwhile. The purge runs in small batches, each its own short transaction, so it never holds locks for long on a
busy database. It is a scheduled job (jobs/catalog.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select

from entryway.runtime import Runtime
from entryway.store.tables import events, webhook_deliveries

BATCH = 500


def purge_events(rt: Runtime) -> int:
    """Delete every event past the retention period; returns how many went."""
    cutoff = rt.clock.now() - timedelta(days=rt.settings.event_retention_days)
    removed = 0
    while True:
        with rt.engine.begin() as conn:
            pending = exists().where(
                webhook_deliveries.c.event_id == events.c.id, webhook_deliveries.c.status == "PENDING"
            )
            old = select(events.c.id).where(events.c.occurred_at < cutoff, ~pending).limit(BATCH)
            ids = list(conn.scalars(old))
            # Checked again as it deletes: a delivery replayed since the select is pending again.
            gone = conn.execute(delete(events).where(events.c.id.in_(ids), ~pending)).rowcount if ids else 0
        removed += gone
        if len(ids) < BATCH:
            return removed
