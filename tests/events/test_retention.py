"""Events past the retention period are deleted with their deliveries and attempts; newer ones stay."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from entryway.clock import FrozenClock
from entryway.events import delivery, endpoints
from entryway.events.retention import purge_events
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import events, webhook_attempts, webhook_deliveries
from tests.events.receiver import receiver


def _count(rt: Runtime, table) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_old_events_go_with_their_deliveries_and_attempts(rt: Runtime, seed: DevSeed) -> None:
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    with receiver() as hook:
        with rt.engine.begin() as conn:
            endpoints.create_endpoint(rt, conn, seed.environment, url=hook.url, event_types=["organization.created"])
            organizations.create_organization(rt, conn, seed.environment.id, display_name="Old")
        delivery.deliver_due(rt)
        clock.advance(days=rt.settings.event_retention_days - 1)
        with rt.engine.begin() as conn:
            organizations.create_organization(rt, conn, seed.environment.id, display_name="New")
        delivery.deliver_due(rt)
    before = _count(rt, events)
    assert purge_events(rt) == 0  # nothing is old enough yet
    clock.advance(days=2)
    removed = purge_events(rt)
    assert removed >= 1 and _count(rt, events) == before - removed
    assert _count(rt, webhook_deliveries) == 1 and _count(rt, webhook_attempts) == 1
    with rt.engine.connect() as conn:
        [kept] = conn.execute(select(events.c.data).where(events.c.type == "organization.created")).scalars()
    assert kept["display_name"] == "New"


def test_pending_deliveries_of_a_disabled_endpoint_outlive_retention(rt: Runtime, seed: DevSeed) -> None:
    """An endpoint disabled long ago keeps its pending deliveries: they resume when it is enabled again."""
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    with receiver() as hook:
        with rt.engine.begin() as conn:
            endpoint, _ = endpoints.create_endpoint(
                rt, conn, seed.environment, url=hook.url, event_types=["organization.created"]
            )
            organizations.create_organization(rt, conn, seed.environment.id, display_name="Waiting")
            # Disabled before its delivery was sent (as a failing endpoint is, after days of retries).
            endpoints.update_endpoint(rt, conn, seed.environment, endpoint.id, {"status": "DISABLED"})
        assert delivery.deliver_due(rt) == 0  # a disabled endpoint is sent nothing
        clock.advance(days=rt.settings.event_retention_days + 5)
        with rt.engine.begin() as conn:  # and an event of the same age without a pending delivery
            organizations.create_organization(rt, conn, seed.environment.id, display_name="Unsent")
        clock.advance(days=rt.settings.event_retention_days + 5)
        removed = purge_events(rt)
        assert removed >= 1  # the old events without a pending delivery went
        with rt.engine.connect() as conn:
            statuses = list(conn.scalars(select(webhook_deliveries.c.status)))
            kept = list(conn.scalars(select(events.c.data).where(events.c.type == "organization.created")))
        assert statuses == ["PENDING"] and [e["display_name"] for e in kept] == ["Waiting"]
        with rt.engine.begin() as conn:
            endpoints.update_endpoint(rt, conn, seed.environment, endpoint.id, {"status": "ENABLED"})
        assert delivery.deliver_due(rt) == 1
        assert [json.loads(r.body)["data"]["display_name"] for r in hook.received] == ["Waiting"]
    assert _count(rt, webhook_deliveries) == 1
    with rt.engine.connect() as conn:
        assert list(conn.scalars(select(webhook_deliveries.c.status))) == ["SUCCEEDED"]
