"""Event retention: events older than ENTRYWAY_EVENT_RETENTION_DAYS go, with their deliveries and attempts.

Deleting an event cascades to its deliveries and their attempts (foreign keys, ON DELETE CASCADE). An event
with a delivery still PENDING is kept, however old: an endpoint disabled for failing keeps its pending
deliveries until it is enabled again, when they resume (docs/webhooks.md), and retention must not drop them
meanwhile (the DELETE checks it again, so a delivery replayed while the purge runs keeps its event). The purge
runs in small batches, each its own short transaction (store/batched_delete.py), so it never holds locks for
long on a busy database. It is a scheduled job (jobs/catalog.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists

from entryway.runtime import Runtime
from entryway.store.batched_delete import delete_in_batches
from entryway.store.tables import events, webhook_deliveries

BATCH = 500


def purge_events(rt: Runtime) -> int:
    """Delete every event past the retention period; returns how many went."""
    cutoff = rt.clock.now() - timedelta(days=rt.settings.event_retention_days)
    pending = exists().where(webhook_deliveries.c.event_id == events.c.id, webhook_deliveries.c.status == "PENDING")
    return delete_in_batches(rt.engine, events, (events.c.occurred_at < cutoff) & ~pending, batch=BATCH)
