"""The auth log over the API: filters, newest-first pages, and the diagnosis of each event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from entryway.clock import FrozenClock
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.bootstrap import DevSeed
from entryway.store.after_commit import transaction
from tests.api.checks import assert_error

URL = "/api/v1/logs/authentication/requests"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def events(rt: Runtime, seed: DevSeed) -> list[str]:
    """Six events a minute apart: successes and failures, for two organizations and two people."""
    clock = FrozenClock(START)
    rt.clock = clock
    made = []
    with transaction(rt.engine) as conn:
        for i in range(6):
            failed = i % 2 == 1
            made.append(
                auth_log.record(
                    rt,
                    conn,
                    environment_id=seed.environment.id,
                    status="FAILED" if failed else "SUCCESS",
                    step="callback",
                    error_code="invalid_saml_response" if failed else None,
                    message="Audience mismatch" if failed else None,
                    diagnosis={"wanted": "https://sp", "got": "https://other"} if failed else {},
                    organization_id=seed.organization_id if i < 4 else "org_other",
                    connection_id=seed.connection_id,
                    email="Jane@Example.com" if i < 3 else "bob@example.org",
                )
            )
            clock.advance(minutes=1)
    rt.clock = FrozenClock(START + timedelta(hours=1))
    return made


def test_newest_first_with_diagnosis(api: TestClient, events: list[str]) -> None:
    body = api.get(URL).json()
    assert body["total_size"] == 6
    assert [e["id"] for e in body["auth_requests"]] == list(reversed(events))
    failure = body["auth_requests"][0]
    assert failure["status"] == "FAILED" and failure["error_code"] == "invalid_saml_response"
    assert failure["diagnosis"] == {"wanted": "https://sp", "got": "https://other"}
    assert failure["create_time"] == "2025-03-01T12:05:00Z"


def test_filters(api: TestClient, events: list[str], seed: DevSeed) -> None:
    def ids(**params: str) -> list[str]:
        response = api.get(URL, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["auth_requests"]]

    assert ids(status="FAILED") == [events[5], events[3], events[1]]
    assert ids(status="success") == [events[4], events[2], events[0]]
    assert ids(organization_id="org_other") == [events[5], events[4]]
    assert ids(email="jane@example.com") == [events[2], events[1], events[0]]
    assert ids(start_time="2025-03-01T12:02:00Z", end_time="2025-03-01T12:04:00Z") == [events[3], events[2]]
    assert ids(start_time="2025-03-01T13:02:00+01:00") == [events[5], events[4], events[3], events[2]]
    assert ids(status="FAILED", organization_id=seed.organization_id) == [events[3], events[1]]


def test_pages_are_stable(api: TestClient, events: list[str]) -> None:
    seen: list[str] = []
    token = ""
    while True:
        body = api.get(URL, params={"page_size": 4, "page_token": token}).json()
        seen.extend(e["id"] for e in body["auth_requests"])
        token = body["next_page_token"]
        if not token:
            break
    assert seen == list(reversed(events))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "MAYBE"}, "status"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"end_time": "2025-03-01T12:00:00"}, "end_time"),
        ({"start_time": "2025-03-02T00:00:00Z", "end_time": "2025-03-01T00:00:00Z"}, "end_time"),
        ({"page_token": "b3JnYW5pemF0aW9uczpvcmdfeA"}, "page_token"),
        ({"page_token": "YXV0aF9ldmVudHM6bm90LWEtdGltZQ"}, "page_token"),  # auth_events:not-a-time
    ],
)
def test_bad_parameters_are_400(api: TestClient, events: list[str], params: dict[str, str], field: str) -> None:
    assert_error(api.get(URL, params=params), 400, field)


def test_other_environments_events_are_not_shown(rt: Runtime, api: TestClient) -> None:
    with transaction(rt.engine) as conn:
        auth_log.record(rt, conn, environment_id="env_other", status="SUCCESS", step="callback")
    assert api.get(URL).json()["total_size"] == 0


def test_the_extra_filters(api: TestClient, events: list[str], seed: DevSeed) -> None:
    def ids(**params: str) -> list[str]:
        return [e["id"] for e in api.get(URL, params=params).json()["auth_requests"]]

    assert ids(error_code="invalid_saml_response") == [events[5], events[3], events[1]]
    assert ids(connection_id=seed.connection_id) == list(reversed(events))
    assert ids(connection_id="conn_other") == []
    assert ids(status="PENDING") == []


def test_every_status_is_a_filter(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with transaction(rt.engine) as conn:
        made = {
            status: auth_log.record(rt, conn, environment_id=seed.environment.id, status=status, step="authorize")
            for status in auth_log.STATUSES
        }
    for status, event_id in made.items():
        body = api.get(URL, params={"status": status.lower()}).json()
        assert [e["id"] for e in body["auth_requests"]] == [event_id]
    assert made["FAILED"].startswith("err_") and made["SUCCESS"].startswith("evt_")


def test_an_unknown_status_is_never_stored(rt: Runtime, seed: DevSeed) -> None:
    with transaction(rt.engine) as conn, pytest.raises(ValueError, match="FAILURE"):
        auth_log.record(rt, conn, environment_id=seed.environment.id, status="FAILURE", step="authorize")


def test_purge_keeps_the_retention_period_and_other_environments(rt: Runtime, events: list[str]) -> None:
    with transaction(rt.engine) as conn:
        auth_log.record(rt, conn, environment_id="env_other", status="SUCCESS", step="token")
    rt.clock = FrozenClock(START + timedelta(days=30, minutes=3, seconds=30))
    env_id = _env_of(rt, events[0])
    removed = auth_log.purge(rt, env_id, retention_days=30)
    assert removed == 4  # 12:00 .. 12:03 are older than 30 days; 12:04 and 12:05 are not
    with rt.engine.connect() as conn:
        assert [auth_log.get_event(conn, e) is not None for e in events] == [False] * 4 + [True] * 2
        assert auth_log.get_event(conn, events[5], "env_other") is None
    rt.clock = FrozenClock(START + timedelta(days=400))
    assert auth_log.purge(rt, "env_other", retention_days=30) == 1  # its own, only now


def _env_of(rt: Runtime, event_id: str) -> str:
    with rt.engine.connect() as conn:
        event = auth_log.get_event(conn, event_id)
    assert event is not None
    return event.environment_id


def test_purge_runs_in_batches(rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_log, "PURGE_BATCH", 3)
    rt.clock = FrozenClock(START)
    with transaction(rt.engine) as conn:
        for _ in range(7):
            auth_log.record(rt, conn, environment_id=seed.environment.id, status="INITIATED", step="authorize")
    rt.clock = FrozenClock(START + timedelta(days=91))
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(rt.engine, "commit", count)
    try:
        assert auth_log.purge(rt, seed.environment.id) == 7  # the default retention, 90 days
    finally:
        event.remove(rt.engine, "commit", count)
    assert commits == 3  # 3 + 3 + 1: each batch its own transaction, not one long one


def test_timeline_counts_logins_and_failures_by_code(rt: Runtime, events: list[str], seed: DevSeed) -> None:
    from entryway.services.auth_log_search import LogFilter, timeline

    with rt.engine.connect() as conn:
        slices = timeline(
            conn,
            LogFilter(seed.environment.id),
            start=START,
            end=START + timedelta(minutes=6),
            buckets=3,
        )
    assert [s.start for s in slices] == [START + timedelta(minutes=2 * i) for i in range(3)]
    assert [s.logins for s in slices] == [1, 1, 1]
    assert [s.failures for s in slices] == [{"invalid_saml_response": 1}] * 3
    with rt.engine.connect() as conn:
        only_other = timeline(
            conn,
            LogFilter(seed.environment.id, organization_id="org_other"),
            start=START,
            end=START + timedelta(minutes=6),
            buckets=3,
        )
    assert [(s.logins, s.failed) for s in only_other] == [(0, 0), (0, 0), (1, 1)]
