"""Prometheus metrics count login outcomes by error code and time each step; /readyz checks migrations."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.observability.metrics import step_of
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.schema_version import head_revision, known_revisions
from tests.conftest import make_settings
from tests.support.schema_states import claimed_revision


def test_failed_authorize_is_counted_by_error_code(rt: Runtime) -> None:
    seed = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    client = TestClient(create_app(rt), base_url="http://localhost:8000")
    response = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": seed.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid",
            "login_hint": "jane@unknown-domain.test",
        },
        follow_redirects=False,
    )
    assert response.status_code == 302 and "error=domain_not_found" in response.headers["location"]
    body = client.get("/metrics").text
    assert 'entryway_login_events_total{error_code="domain_not_found",outcome="failed",step="authorize"} 1.0' in body
    assert 'entryway_request_duration_seconds_count{status_class="3xx",step="authorize"} 1.0' in body


def test_step_labels_are_a_closed_set() -> None:
    assert step_of("/oauth/authorize") == "authorize"
    assert step_of("/sso/v1/saml/conn_1/callback") == "saml_acs"
    assert step_of("/sso/v1/saml/conn_1/metadata") == "other"
    assert step_of("/api/v1/organizations/org_1") == "api"
    assert step_of("/anything/else") == "other"


def test_ready_when_database_is_migrated(rt: Runtime) -> None:
    client = TestClient(create_app(rt))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "current", "secrets": "ok"}


@pytest.mark.parametrize(
    ("claimed", "state"),
    [("older", "behind"), (None, "behind"), ("9999_from_a_newer_release", "ahead")],
)
def test_not_ready_when_migrations_are_behind_or_ahead(rt: Runtime, claimed: str | None, state: str) -> None:
    client = TestClient(create_app(rt))
    head = head_revision()
    older = sorted(known_revisions() - {head})[0]
    with claimed_revision(rt.engine, older if claimed == "older" else claimed):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": state, "secrets": "unknown"}
    assert client.get("/readyz").status_code == 200  # and ready again at the head


def test_not_ready_but_alive_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1 of loopback: the connection is refused at once, as by a stopped PostgreSQL.
    settings = make_settings("postgresql://entryway@127.0.0.1:1/entryway", tmp_path)
    client = TestClient(create_app(Runtime.build(settings)))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "migrations": "unknown",
        "secrets": "unknown",
    }
    # Liveness checks nothing outside the process: a database outage must not get instances restarted.
    assert client.get("/healthz").status_code == 200


def test_not_ready_without_the_master_key_that_wraps_the_data_keys(rt: Runtime, tmp_path: Path) -> None:
    seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")  # seals under a data key
    assert TestClient(create_app(rt)).get("/readyz").status_code == 200
    other = dataclasses.replace(rt.settings, master_key=os.urandom(32))
    response = TestClient(create_app(Runtime.build(other, engine=rt.engine))).get("/readyz")
    assert response.status_code == 503 and response.json()["secrets"] == "locked"
