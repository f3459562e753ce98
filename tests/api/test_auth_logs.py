"""The auth log over the API: filters, newest-first pages, and the diagnosis of each event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from entryway.clock import FrozenClock
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error

URL = "/api/v1/logs/authentication/requests"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def events(rt: Runtime, seed: DevSeed) -> list[str]:
    """Six events a minute apart: successes and failures, for two organizations and two people."""
    clock = FrozenClock(START)
    rt.clock = clock
    made = []
    with rt.engine.begin() as conn:
        for i in range(6):
            failed = i % 2 == 1
            made.append(
                auth_log.record(
                    rt,
                    conn,
                    environment_id=seed.environment.id,
                    status="FAILURE" if failed else "SUCCESS",
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
    assert failure["status"] == "FAILURE" and failure["error_code"] == "invalid_saml_response"
    assert failure["diagnosis"] == {"wanted": "https://sp", "got": "https://other"}
    assert failure["create_time"] == "2025-03-01T12:05:00Z"


def test_filters(api: TestClient, events: list[str], seed: DevSeed) -> None:
    def ids(**params: str) -> list[str]:
        response = api.get(URL, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["auth_requests"]]

    assert ids(status="FAILURE") == [events[5], events[3], events[1]]
    assert ids(status="success") == [events[4], events[2], events[0]]
    assert ids(organization_id="org_other") == [events[5], events[4]]
    assert ids(email="jane@example.com") == [events[2], events[1], events[0]]
    assert ids(start_time="2025-03-01T12:02:00Z", end_time="2025-03-01T12:04:00Z") == [events[3], events[2]]
    assert ids(start_time="2025-03-01T13:02:00+01:00") == [events[5], events[4], events[3], events[2]]
    assert ids(status="FAILURE", organization_id=seed.organization_id) == [events[3], events[1]]


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
    with rt.engine.begin() as conn:
        auth_log.record(rt, conn, environment_id="env_other", status="SUCCESS", step="callback")
    assert api.get(URL).json()["total_size"] == 0
