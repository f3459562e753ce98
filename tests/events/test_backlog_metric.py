"""/metrics reports the webhook backlog from the database, so any instance shows the shared queue."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.events import delivery, endpoints
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import DevSeed
from tests.events.receiver import receiver


def _metric(client: TestClient, line_start: str) -> float:
    text = client.get("/metrics").text
    [line] = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(line.rsplit(" ", 1)[1])


def test_the_backlog_gauge_follows_the_queue(rt: Runtime, seed: DevSeed) -> None:
    client = TestClient(create_app(rt), base_url=seed.environment.url)
    assert _metric(client, 'entryway_webhook_backlog{state="pending"}') == 0
    with receiver() as hook:
        hook.script = [(500, 0)]
        with rt.engine.begin() as conn:
            endpoints.create_endpoint(rt, conn, seed.environment, url=hook.url, event_types=["organization.created"])
            for i in range(3):
                organizations.create_organization(rt, conn, seed.environment.id, display_name=f"Org {i}")
        assert isinstance(rt.clock, FrozenClock)
        rt.clock.advance(seconds=30)
        assert _metric(client, 'entryway_webhook_backlog{state="pending"}') == 3
        assert _metric(client, 'entryway_webhook_backlog{state="due"}') == 3
        assert _metric(client, "entryway_webhook_oldest_due_seconds") >= 30
        delivery.deliver_due(rt)  # two delivered, one failed and waiting for its retry
    assert _metric(client, 'entryway_webhook_backlog{state="pending"}') == 1
    assert _metric(client, 'entryway_webhook_backlog{state="due"}') == 0
    assert _metric(client, 'entryway_webhook_attempts_total{outcome="success"}') == 2
    assert _metric(client, 'entryway_webhook_attempts_total{outcome="failure"}') == 1
