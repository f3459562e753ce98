"""An instance started with a master key that does not wrap the data keys in use (a wrong key, or only the old
one after `rotate-master`): it says so at start, `/readyz` keeps traffic away, and a request that reaches it
anyway gets a 503 in the caller's shape, never a 500. Both backends."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from entryway.app import create_app
from entryway.clock import Clock
from entryway.keys.locked import report_if_locked
from entryway.keys.sealing import master_key_id
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.environments import app_client_id, get_environment
from tests.conftest import make_settings

ENV_URL = "http://localhost:8000"


def runtime(engine: Engine, tmp: Path, master: bytes) -> Runtime:
    settings = make_settings(str(engine.url), tmp)
    return Runtime.build(type(settings)(**{**settings.__dict__, "master_key": master}), clock=Clock(), engine=engine)


@pytest.fixture
def seeded(rt: Runtime) -> DevSeed:
    return seed_development(rt, ENV_URL, "http://localhost:3000/callback")


@pytest.fixture
def locked(engine: Engine, tmp_path: Path, seeded: DevSeed) -> Runtime:
    return runtime(engine, tmp_path, os.urandom(32))


def test_the_token_endpoint_answers_503_not_500(locked: Runtime, seeded: DevSeed) -> None:
    assert seeded.plain_secret
    with TestClient(create_app(locked), base_url=ENV_URL) as client:
        assert client.get("/readyz").json()["secrets"] == "locked"
        response = client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": seeded.client_id,
                "client_secret": seeded.plain_secret,
            },
        )
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert "master key" in response.json()["error_description"]


def test_the_management_api_answers_503_in_its_contract_shape(rt: Runtime, locked: Runtime, seeded: DevSeed) -> None:
    with rt.engine.connect() as conn:
        env = get_environment(conn, seeded.environment.id)
        client_id = app_client_id(conn, env.id)
    token = access_tokens.mint(rt, env, client_id=client_id, subject=client_id, ttl_seconds=600, scopes=["*"])
    with TestClient(create_app(locked), base_url=ENV_URL) as client:
        # Checking the bearer token needs the environment's signing key, sealed under a master key it lacks.
        response = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token.token}"})
    assert response.status_code == 503, response.text
    assert response.json()["code"] == 14 and "master key" in response.json()["message"]


def _started(rt: Runtime) -> None:
    """Start the app (its lifespan) and wait for its start-up check of the master key."""
    with TestClient(create_app(rt), base_url=ENV_URL):
        for thread in threading.enumerate():
            if thread.name == "entryway-secrets-check":
                thread.join(timeout=10)


def test_a_locked_instance_says_which_master_key_it_lacks_at_start(
    rt: Runtime, locked: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="entryway.keys"):
        _started(rt)
        assert not caplog.records  # the right key: nothing to say
        _started(locked)
    (record,) = caplog.records
    message = record.getMessage()
    assert "stored secrets are locked" in message
    assert master_key_id(rt.settings.master_key) in message and "ENTRYWAY_MASTER_KEY" in message


def test_the_start_check_waits_for_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    report_if_locked(runtime(engine, tmp_path, os.urandom(32)))  # no data_keys table yet: /readyz reports it
