"""entryway_login_events_total beside the auth log, as tallies of (status, error code, step), so that a test can
say the counter counted exactly what the log holds (services/auth_log.py)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.store.tables import auth_events

Tally = Counter[tuple[str, str, str]]


def counted(rt: Runtime) -> Tally:
    """What this runtime's counter counted (each runtime has a registry of its own)."""
    found: Tally = Counter()
    for metric in rt.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "entryway_login_events_total" and sample.value:
                labels = sample.labels
                found[(labels["outcome"].upper(), labels["error_code"], labels["step"])] += int(sample.value)
    return found


def logged(rt: Runtime, environment_id: str) -> Tally:
    """What the environment's auth log holds."""
    columns = (auth_events.c.status, auth_events.c.error_code, auth_events.c.step)
    with rt.engine.connect() as conn:
        rows = conn.execute(select(*columns).where(auth_events.c.environment_id == environment_id)).all()
    return Counter((row.status, row.error_code or "", row.step) for row in rows)
