"""The webhook backlog gauges tell an operator whether deliveries wait for a worker: `due` and the oldest due age
count what a worker may send now, not deliveries held for a disabled endpoint (no worker will ever take those
until it is enabled again, so an alert on their age would never clear); `pending` still counts them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.events import endpoints
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL


def _gauge(client: TestClient, name: str) -> float:
    [line] = [line for line in client.get("/metrics").text.splitlines() if line.startswith(name + " ")]
    return float(line.rsplit(" ", 1)[1])


def test_deliveries_held_for_a_disabled_endpoint_are_pending_but_not_due(rt: Runtime) -> None:
    clock = FrozenClock(datetime.now(UTC))
    # The endpoint is on loopback (nothing is sent here), which the private-address policy refuses unless allowed.
    rt = Runtime.build(replace(rt.settings, allow_private_fetch=True), clock=clock, engine=rt.engine)
    seed = seed_development(rt, ENV_URL, CALLBACK)
    env = seed.environment
    client = TestClient(create_app(rt), base_url=ENV_URL)
    with rt.engine.begin() as conn:
        held, _ = endpoints.create_endpoint(
            rt, conn, env, url="http://127.0.0.1:9/held", event_types=["organization.created"]
        )
        for i in range(2):
            organizations.create_organization(rt, conn, env.id, display_name=f"Org {i}")
        endpoints.update_endpoint(rt, conn, env, held.id, {"status": "DISABLED"})
    clock.advance(seconds=600)
    assert _gauge(client, 'entryway_webhook_backlog{state="pending"}') == 2
    assert _gauge(client, 'entryway_webhook_backlog{state="due"}') == 0
    assert _gauge(client, "entryway_webhook_oldest_due_seconds") == 0

    with rt.engine.begin() as conn:
        endpoints.update_endpoint(rt, conn, env, held.id, {"status": "ENABLED"})
    assert _gauge(client, 'entryway_webhook_backlog{state="due"}') == 2
    assert _gauge(client, "entryway_webhook_oldest_due_seconds") >= 600
