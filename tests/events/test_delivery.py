"""Delivery to a real HTTP receiver on loopback: signatures, retries, timeouts, leases, replay, test events."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
import standardwebhooks
from entryway_sdk import EntrywayClient
from sqlalchemy import select, update

from entryway.clock import FrozenClock
from entryway.events import delivery, endpoints
from entryway.events.worker import DeliveryWorker
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from tests.events.receiver import receiver


def _endpoint(rt: Runtime, seed: DevSeed, url: str, types: list[str] | None = None) -> tuple[str, str]:
    with rt.engine.begin() as conn:
        created, secret = endpoints.create_endpoint(
            rt, conn, seed.environment, url=url, event_types=types or ["organization.created"]
        )
    return created.id, secret


def _create_orgs(rt: Runtime, seed: DevSeed, count: int) -> list[str]:
    made = []
    with rt.engine.begin() as conn:
        for i in range(count):
            made.append(organizations.create_organization(rt, conn, seed.environment.id, display_name=f"Org {i}").id)
    return made


def _deliveries(rt: Runtime) -> list[dict]:
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(webhook_deliveries).order_by(webhook_deliveries.c.id))]


def _attempts(rt: Runtime) -> list[dict]:
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(webhook_attempts).order_by(webhook_attempts.c.id))]


def _advance_to_next_attempt(rt: Runtime) -> None:
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    due = min(d["next_attempt_time"] for d in _deliveries(rt) if d["status"] == "PENDING")
    clock.at = max(clock.at, due)


def test_a_delivery_is_signed_the_standard_webhooks_way(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        _, secret = _endpoint(rt, seed, hook.url)
        [org_id] = _create_orgs(rt, seed, 1)
        assert delivery.deliver_due(rt) == 1
    [got] = hook.received
    # An independent implementation of the Standard Webhooks algorithm accepts it...
    payload = standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "organization.created"
    assert payload["data"]["id"] == org_id
    assert payload["id"] == got.headers["webhook-id"] and payload["id"].startswith("evt_")
    assert set(payload) == {
        "spec_version",
        "id",
        "type",
        "object",
        "environment_id",
        "organization_id",
        "occurred_at",
        "data",
    }
    # ...and so does Entryway's own SDK.
    sdk = EntrywayClient(seed.environment.url, seed.client_id, "unused")
    assert sdk.verify_webhook_payload(secret, got.headers, got.body)
    # A different secret does not verify: the signature is not decoration.
    _, other = _endpoint(rt, seed, hook.url + "/other")
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other).verify(got.body, got.headers)
    [row] = _deliveries(rt)[:1]
    assert row["status"] == "SUCCEEDED" and row["attempt_count"] == 1


def test_a_500_is_retried_with_backoff_and_every_attempt_is_logged(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        hook.script = [(500, 0), (503, 0)]
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        started = rt.clock.now()
        assert delivery.deliver_due(rt) == 1
        [pending] = _deliveries(rt)
        assert pending["status"] == "PENDING" and pending["last_status_code"] == 500
        first_delay = (pending["next_attempt_time"] - started).total_seconds()
        assert 5 * 0.75 <= first_delay <= 5 * 1.25
        assert delivery.deliver_due(rt) == 0  # not due yet: nothing is sent early
        _advance_to_next_attempt(rt)
        assert delivery.deliver_due(rt) == 1
        second_delay = (_deliveries(rt)[0]["next_attempt_time"] - rt.clock.now()).total_seconds()
        assert 10 * 0.75 <= second_delay <= 10 * 1.25
        _advance_to_next_attempt(rt)
        assert delivery.deliver_due(rt) == 1
    assert len({r.headers["webhook-id"] for r in hook.received}) == 1  # the same message each time
    attempts = _attempts(rt)
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in attempts] == [
        (1, "FAILURE", 500),
        (2, "FAILURE", 503),
        (3, "SUCCESS", 200),
    ]
    assert attempts[0]["response_excerpt"] == "receiver says no"
    assert attempts[0]["error"] == "the receiver answered HTTP 500"
    assert all(a["latency_ms"] >= 0 for a in attempts)
    assert _deliveries(rt)[0]["status"] == "SUCCEEDED"


def test_a_receiver_that_hangs_times_out_and_is_retried(rt: Runtime, seed: DevSeed) -> None:
    rt.settings = replace(rt.settings, webhook_timeout_seconds=1.0)
    with receiver() as hook:
        hook.script = [(200, 3.0)]  # answers, but only after the timeout
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
        [first] = _attempts(rt)
        assert first["outcome"] == "FAILURE" and first["status_code"] is None
        assert first["error"] == "the receiver did not answer within 1 s"
        assert 900 <= first["latency_ms"] < 3000
        _advance_to_next_attempt(rt)
        delivery.deliver_due(rt)
    assert [a["outcome"] for a in _attempts(rt)] == ["FAILURE", "SUCCESS"]


def test_retries_go_on_for_more_than_a_day_then_the_delivery_fails(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        hook.default = (500, 0)
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        created = rt.clock.now()
        for _ in range(40):
            delivery.deliver_due(rt)
            if _deliveries(rt)[0]["status"] != "PENDING":
                break
            _advance_to_next_attempt(rt)
    attempts = _attempts(rt)
    assert _deliveries(rt)[0]["status"] == "FAILED"
    assert attempts[-1]["create_time"] - created >= timedelta(hours=24)
    assert 10 <= len(attempts) <= 25  # exponential: many early, few late, never a hammering loop
    gaps = [(b["create_time"] - a["create_time"]).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[5] > gaps[0] * 8  # the delay grows


def test_a_redirect_is_a_failure_not_followed(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        hook.script = [(302, 0)]
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
    [attempt] = _attempts(rt)
    assert attempt["outcome"] == "FAILURE" and attempt["status_code"] == 302
    assert "redirects are not followed" in attempt["error"]


def test_a_private_address_is_not_contacted_unless_allowed(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        rt.settings = replace(rt.settings, allow_private_fetch=False)  # the operator withdrew the permission
        delivery.deliver_due(rt)
    assert hook.received == []
    [attempt] = _attempts(rt)
    assert attempt["outcome"] == "FAILURE" and "non-public address" in attempt["error"]


def test_two_workers_never_send_the_same_delivery(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        hook.default = (200, 0.01)
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 40)
        workers = [DeliveryWorker(rt, batch=3, concurrency=2) for _ in range(2)]
        barrier = threading.Barrier(2)

        def drain(worker: DeliveryWorker) -> None:
            barrier.wait()
            while worker.run_once():
                pass

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for w in workers:
            w.stop()
    ids = hook.ids()
    assert len(ids) == 40 and len(set(ids)) == 40
    assert {d["status"] for d in _deliveries(rt)} == {"SUCCEEDED"}
    assert len({a["worker"] for a in _attempts(rt)}) > 1  # both workers really took part


def test_an_expired_lease_is_taken_over_and_the_late_worker_cannot_overwrite(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        [stale] = delivery.claim_due(rt)  # a worker claims, then stalls (or dies)
        assert delivery.claim_due(rt) == []  # while its lease holds, nobody else gets it
        assert isinstance(rt.clock, FrozenClock)
        rt.clock.advance(seconds=rt.settings.webhook_lease_seconds + 1)
        [fresh] = delivery.claim_due(rt)
        assert delivery.deliver(rt, fresh) == "SUCCEEDED"
        assert delivery.deliver(rt, stale) == "LEASE_LOST"
    assert _deliveries(rt)[0]["status"] == "SUCCEEDED"


def test_an_endpoint_failing_for_days_is_disabled_and_resumes_when_enabled(rt: Runtime, seed: DevSeed) -> None:
    rt.settings = replace(rt.settings, webhook_disable_after_days=2.0)
    with receiver() as hook:
        hook.default = (500, 0)
        endpoint_id, _ = _endpoint(rt, seed, hook.url)
        for _ in range(3):  # a new event each day, each failing
            _create_orgs(rt, seed, 1)
            delivery.deliver_due(rt)
            assert isinstance(rt.clock, FrozenClock)
            rt.clock.advance(days=1, seconds=1)
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
        with rt.engine.connect() as conn:
            found = endpoints.get_endpoint(conn, seed.environment.id, endpoint_id)
        assert found.status == "DISABLED" and "failed for 2 days" in (found.disabled_reason or "")
        sent = len(hook.received)
        _create_orgs(rt, seed, 1)
        assert delivery.deliver_due(rt) == 0  # a disabled endpoint is neither sent to nor queued for
        assert len(hook.received) == sent
        hook.default = (200, 0)
        with rt.engine.begin() as conn:
            endpoints.update_endpoint(rt, conn, seed.environment, endpoint_id, {"status": "ENABLED"})
        assert delivery.deliver_due(rt) >= 1  # the pending ones go out again
    with rt.engine.connect() as conn:
        assert conn.execute(select(webhook_endpoints.c.failing_since)).scalar() is None


def test_replay_sends_a_delivered_event_again_with_the_same_id(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        endpoint_id, _ = _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
        [row] = _deliveries(rt)
        assert delivery.replay(rt, seed.environment.id, endpoint_id, row["id"]) == "SUCCEEDED"
    assert len(hook.received) == 2 and hook.received[0].body == hook.received[1].body
    assert hook.ids()[0] == hook.ids()[1]
    assert [a["trigger"] for a in _attempts(rt)] == ["scheduled", "replay"]


def test_a_test_event_goes_to_one_endpoint_at_once_and_is_not_retried(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook, receiver() as other:
        endpoint_id, secret = _endpoint(rt, seed, hook.url)
        _endpoint(rt, seed, other.url)
        delivery_id = delivery.send_test(rt, seed.environment.id, endpoint_id)
        [got] = hook.received
        assert other.received == []
        assert standardwebhooks.Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.test"
        hook.default = (500, 0)
        failed_id = delivery.send_test(rt, seed.environment.id, endpoint_id)
    rows = {d["id"]: d for d in _deliveries(rt)}
    assert rows[delivery_id]["status"] == "SUCCEEDED"
    assert rows[failed_id]["status"] == "FAILED"


def test_after_a_secret_rotation_both_secrets_verify_for_a_day(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        endpoint_id, old = _endpoint(rt, seed, hook.url)
        with rt.engine.begin() as conn:
            _, new = endpoints.rotate_secret(rt, conn, seed.environment.id, endpoint_id)
        assert new != old and new.startswith("whsec_")
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
        assert isinstance(rt.clock, FrozenClock)
        rt.clock.advance(hours=25)
        _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
    first, second = hook.received
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(first.body, first.headers)
    standardwebhooks.Webhook(new).verify(second.body, second.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(second.body, second.headers)


def test_the_event_body_is_json_with_the_contract_envelope(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        _endpoint(rt, seed, hook.url)
        [org_id] = _create_orgs(rt, seed, 1)
        delivery.deliver_due(rt)
    [got] = hook.received
    assert got.headers["content-type"] == "application/json"
    body = json.loads(got.body)
    assert body["spec_version"] == "1" and body["object"] == "organization"
    assert body["environment_id"] == seed.environment.id and body["organization_id"] == org_id
    assert body["occurred_at"].endswith("Z")


def test_deliveries_of_a_deleted_endpoint_go_with_it(rt: Runtime, seed: DevSeed) -> None:
    with receiver() as hook:
        endpoint_id, _ = _endpoint(rt, seed, hook.url)
        _create_orgs(rt, seed, 2)
        with rt.engine.begin() as conn:
            endpoints.delete_endpoint(conn, seed.environment.id, endpoint_id)
        assert delivery.deliver_due(rt) == 0
    assert _deliveries(rt) == [] and hook.received == []
    with rt.engine.begin() as conn:
        conn.execute(update(webhook_deliveries).values(status="PENDING"))  # nothing left to resurrect
