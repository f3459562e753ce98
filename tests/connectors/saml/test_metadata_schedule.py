"""The server refreshes IdP metadata by itself: due connections are claimed under a database lease (one
instance at a time per connection), changes are applied and recorded (certificates added and removed),
failures are recorded and leave the connection working, and the refresher runs as a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from entryway.clock import FrozenClock
from entryway.connectors.saml import metadata_schedule as schedule
from entryway.jobs import catalog
from entryway.jobs.scheduler import Scheduler
from entryway.runtime import Runtime
from entryway.services.connections import find_connection
from entryway.store.tables import connections, metadata_refreshes
from tests.api.conftest import client_with, token_for
from tests.connectors.saml.test_metadata_import import fingerprint, login_signed_by, metadata_of, use_connection
from tests.connectors.support import SamlWorld
from tests.support.saml_builder import shared_key
from tests.support.saml_http import Served, serving
from tests.support.saml_metadata import sp_metadata

DAY = 86400


@pytest.fixture
def api(world: SamlWorld) -> Iterator[TestClient]:
    world.rt.settings = replace(world.rt.settings, allow_private_fetch=True, metadata_refresh_seconds=DAY)
    with client_with(world.rt, world.seed, token_for(world.rt, world.seed, ["*"])) as client:
        yield client


@pytest.fixture
def http() -> Iterator[Served]:
    with serving() as served:
        yield served


def frozen(world: SamlWorld) -> FrozenClock:
    assert isinstance(world.rt.clock, FrozenClock)
    return world.rt.clock


def from_url(api: TestClient, world: SamlWorld, url: str) -> str:
    base = f"/api/v1/organizations/{world.seed.organization_id}/connections"
    made = api.post(base, json={"type": "SAML", "provider": "CUSTOM", "saml_config": {"idp_metadata_url": url}})
    assert made.status_code == 201, made.text
    cid = str(made.json()["connection"]["id"])
    assert api.patch(f"{base}/{cid}:enable").status_code == 200
    return cid


def row(rt: Runtime, connection_id: str) -> dict[str, Any]:
    with rt.engine.connect() as db:
        found = db.execute(select(metadata_refreshes).where(metadata_refreshes.c.connection_id == connection_id))
        return dict(found.one()._mapping)


def make_due(rt: Runtime, connection_id: str) -> None:
    with rt.engine.begin() as db:
        db.execute(
            update(metadata_refreshes)
            .where(metadata_refreshes.c.connection_id == connection_id)
            .values(next_time=rt.clock.now())
        )


def connection_row(rt: Runtime, connection_id: str) -> tuple[Any, ...]:
    with rt.engine.connect() as db:
        return tuple(db.execute(select(connections).where(connections.c.id == connection_id)).one())


def test_a_due_connection_is_refreshed_and_what_changed_is_recorded(
    api: TestClient, world: SamlWorld, http: Served
) -> None:
    rt = world.rt
    old, new = shared_key("idp"), shared_key("idp-next")
    cid = from_url(api, world, http.put("/metadata.xml", metadata_of(old)))
    schedule.schedule_new(rt)
    first = row(rt, cid)
    now = rt.clock.now()
    assert now <= first["next_time"] < now + schedule.timedelta(seconds=DAY)  # spread over the interval
    assert [o for o in schedule.refresh_due(rt) if o.connection_id == cid] == []  # not due yet
    http.put("/metadata.xml", metadata_of(old, new))  # the IdP publishes its next certificate
    frozen(world).advance(seconds=DAY)
    [outcome] = [o for o in schedule.refresh_due(rt) if o.connection_id == cid]
    assert outcome.result == "changed" and outcome.detail is not None
    assert outcome.detail["certificates_added"] == [fingerprint(new)] and outcome.detail["certificates_removed"] == []
    recorded = row(rt, cid)
    assert recorded["last_change"]["changed_fields"] == ["idp_certificates"]
    assert recorded["last_success_time"] == rt.clock.now() and recorded["last_error"] is None
    assert recorded["next_time"] == rt.clock.now() + schedule.timedelta(seconds=DAY)
    assert recorded["lease_owner"] is None
    use_connection(world, cid)
    assert login_signed_by(world, new) == "code"
    # The same document again changes nothing: not even the connection's update time.
    before = connection_row(rt, cid)
    frozen(world).advance(seconds=DAY)
    assert [o.result for o in schedule.refresh_due(rt) if o.connection_id == cid] == ["unchanged"]
    assert connection_row(rt, cid) == before
    # The IdP drops the old certificate.
    http.put("/metadata.xml", metadata_of(new))
    frozen(world).advance(seconds=DAY)
    [dropped] = [o for o in schedule.refresh_due(rt) if o.connection_id == cid]
    assert dropped.detail is not None and dropped.detail["certificates_removed"] == [fingerprint(old)]
    use_connection(world, cid)
    assert login_signed_by(world, old) == "signature_validation_failed"


def test_failures_are_recorded_and_the_connection_keeps_working(
    api: TestClient, world: SamlWorld, http: Served
) -> None:
    rt = world.rt
    key = shared_key("idp")
    cid = from_url(api, world, http.put("/metadata.xml", metadata_of(key)))
    schedule.schedule_new(rt)
    before = connection_row(rt, cid)
    http.put("/metadata.xml", b"", status=503)
    make_due(rt, cid)
    [failed] = [o for o in schedule.refresh_due(rt) if o.connection_id == cid]
    assert failed.result == "failed"
    recorded = row(rt, cid)
    assert "answered HTTP 503" in recorded["last_error"]["message"] and recorded["consecutive_failures"] == 1
    assert recorded["next_time"] == rt.clock.now() + schedule.timedelta(seconds=schedule.RETRY_SECONDS)
    # SP metadata where IdP metadata belongs, or metadata that would leave the enabled connection without a
    # certificate, is refused the same way
    http.put("/metadata.xml", sp_metadata("https://x.example", "https://x.example/acs", key))
    frozen(world).advance(seconds=schedule.RETRY_SECONDS)
    assert [o.result for o in schedule.refresh_due(rt) if o.connection_id == cid] == ["failed"]
    recorded = row(rt, cid)
    assert "service provider (SP) metadata" in recorded["last_error"]["message"]
    assert recorded["consecutive_failures"] == 2
    assert connection_row(rt, cid) == before  # the connection is untouched
    shown = api.get(f"/api/v1/organizations/{world.seed.organization_id}/connections/{cid}").json()["connection"]
    state = shown["saml_config"]["idp_metadata_refresh"]  # what an admin sees
    assert "service provider (SP) metadata" in state["last_error"]["message"] and state["consecutive_failures"] == 2
    assert state["next_time"].endswith("Z") and shown["enabled"] is True
    use_connection(world, cid)
    assert login_signed_by(world, key) == "code"
    # the IdP recovers: the error is cleared
    http.put("/metadata.xml", metadata_of(key, shared_key("idp-next")))
    frozen(world).advance(seconds=schedule.RETRY_SECONDS)
    assert [o.result for o in schedule.refresh_due(rt) if o.connection_id == cid] == ["changed"]
    assert row(rt, cid)["last_error"] is None and row(rt, cid)["consecutive_failures"] == 0


def test_one_instance_at_a_time_holds_a_connection(api: TestClient, world: SamlWorld, http: Served) -> None:
    rt = world.rt
    cids = [from_url(api, world, http.put(f"/m{i}.xml", metadata_of(shared_key("idp")))) for i in range(4)]
    schedule.schedule_new(rt)
    for cid in cids:
        make_due(rt, cid)
    # Two instances (each its own Runtime, as two processes would have) claim at the same moment.
    instances = [Runtime.build(rt.settings, clock=rt.clock, engine=rt.engine) for _ in range(2)]
    held: list[list[str]] = [[], []]
    tokens = ["", ""]
    start = threading.Barrier(2)

    def claim(index: int) -> None:
        start.wait()
        tokens[index], held[index] = schedule.claim_due(instances[index], limit=10)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    mine = [c for c in held[0] + held[1] if c in cids]
    assert sorted(mine) == sorted(cids)  # every due connection claimed, none by both
    owner = 0 if cids[0] in held[0] else 1
    assert schedule.claim_due(instances[1 - owner], limit=10)[1] == []  # held: nothing for the other
    # A worker that died leaves its lease to expire; then another takes the connection over,
    frozen(world).advance(seconds=schedule.LEASE_SECONDS + 1)
    token, taken = schedule.claim_due(instances[1 - owner], limit=10)
    assert cids[0] in taken
    # and the late worker's outcome no longer lands in the row it lost.
    schedule.refresh_claimed(instances[owner], tokens[owner], cids[0])
    assert row(rt, cids[0])["lease_owner"] == token and row(rt, cids[0])["last_attempt_time"] is None


def test_a_deleted_connection_takes_its_schedule_with_it(api: TestClient, world: SamlWorld, http: Served) -> None:
    cid = from_url(api, world, http.put("/metadata.xml", metadata_of(shared_key("idp"))))
    schedule.schedule_new(world.rt)
    base = f"/api/v1/organizations/{world.seed.organization_id}/connections"
    assert api.delete(f"{base}/{cid}").status_code == 200
    with world.rt.engine.connect() as db:
        left = db.execute(select(metadata_refreshes).where(metadata_refreshes.c.connection_id == cid)).all()
    assert left == []


def test_the_server_refreshes_in_the_background(api: TestClient, world: SamlWorld, http: Served) -> None:
    rt = world.rt
    cid = from_url(api, world, http.put("/metadata.xml", metadata_of(shared_key("idp"))))
    http.put("/metadata.xml", metadata_of(shared_key("idp"), shared_key("idp-next")))
    off = catalog.all_jobs(Runtime.build(replace(rt.settings, metadata_refresh_seconds=0), engine=rt.engine))
    assert not {"metadata_schedule", "metadata_refresh"} & {job.name for job in off}
    rt.settings = replace(rt.settings, metadata_refresh_seconds=1)
    scheduler = Scheduler(rt, catalog.all_jobs(rt), tick=0.05)
    assert scheduler.run_pending() == []  # a fresh database: every job waits its first delay
    frozen(world).advance(seconds=700)  # past every job's first delay
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frozen(world).advance(seconds=10)
            with rt.engine.connect() as db:
                found = find_connection(db, world.env_id, cid)
            assert found is not None
            if len(found.saml_config["idp_certificates"]) == 2:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the background refresher never applied the new metadata")
    finally:
        scheduler.stop()


def test_only_connections_with_a_metadata_url_are_scheduled(api: TestClient, world: SamlWorld, http: Served) -> None:
    with_url = from_url(api, world, http.put("/metadata.xml", metadata_of(shared_key("idp"))))
    schedule.schedule_new(world.rt)
    with world.rt.engine.connect() as db:
        scheduled = set(db.scalars(select(metadata_refreshes.c.connection_id)))
    # the world's own connection was configured by hand (no URL): there is nothing to fetch for it
    assert with_url in scheduled and world.connection.id not in scheduled
