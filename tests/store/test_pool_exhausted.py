"""A process whose database connections are all taken answers 503 with Retry-After, never a 500 (store/db.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.store.db import POOL_OVERFLOW, POOL_SIZE, POOL_TIMEOUT_SECONDS, make_engine
from tests.conftest import make_settings


def test_every_engine_gets_the_bounded_pool(engine: Engine, tmp_path: Path) -> None:
    made = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert (made.pool.size(), made.pool._max_overflow, made.pool._timeout) == (  # type: ignore[attr-defined]
            POOL_SIZE,
            POOL_OVERFLOW,
            POOL_TIMEOUT_SECONDS,
        )
    finally:
        made.dispose()


@contextmanager
def _pool_exhausted(engine: Engine, tmp_path: Path, timeout: float = 0.2) -> Iterator[TestClient]:
    """A served app whose pool's only connection is held for the block: no request can get one."""
    url = engine.url.render_as_string(hide_password=False)
    one = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=timeout)
    rt = Runtime.build(make_settings(url, tmp_path), engine=one)
    try:
        with TestClient(create_app(rt), base_url="http://localhost:8000") as http, one.connect():
            yield http
    finally:
        one.dispose()


def test_a_request_finding_no_free_connection_is_answered_503(engine: Engine, tmp_path: Path) -> None:
    with _pool_exhausted(engine, tmp_path) as http:
        # The token endpoint cannot read its client, nor authorize its environment.
        answer = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": "c"})
        page = http.get("/oauth/authorize", params={"client_id": "x"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "temporarily_unavailable"
    assert answer.headers["retry-after"] == "2"
    assert page.status_code == 503 and "temporarily_unavailable" in page.text


@pytest.mark.parametrize(
    "path", ["/oauth/authorize?client_id=x", "/.well-known/openid-configuration", "/api/v1/organizations"]
)
def test_a_request_waits_for_the_pool_once_not_again_for_its_answer(engine: Engine, tmp_path: Path, path: str) -> None:
    """The configuration cache's check, then its load, then the error page's branding, each asking for a connection
    in turn, made a request wait for the pool up to three times before its 503. Once is enough: the answer is
    the same."""
    timeout = 1.0
    with _pool_exhausted(engine, tmp_path, timeout) as http:
        started = time.monotonic()
        answer = http.get(path)
        took = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert timeout <= took < 1.7 * timeout, f"{took:.2f} s"


def test_the_outage_log_line_names_no_credential_in_the_path(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A portal link's path is its credential: the line logged for a 503 keeps the path's shape, not the token."""
    token = "PortalLinkToken-" + "x" * 30
    with _pool_exhausted(engine, tmp_path) as http, caplog.at_level(logging.ERROR, logger="entryway.database"):
        answer = http.get(f"/portal/links/{token}")
    assert answer.status_code == 503
    lines = [r for r in caplog.records if r.name == "entryway.database"]
    assert lines and all(getattr(r, "path", "") == "/portal/links/…" for r in lines), [vars(r) for r in lines]
    assert not any(token in str(vars(r)) for r in caplog.records)


def test_readiness_and_metrics_still_answer_in_their_own_shape(engine: Engine, tmp_path: Path) -> None:
    """The load balancer and Prometheus need their answers most while the pool is exhausted."""
    with _pool_exhausted(engine, tmp_path) as http:
        ready = http.get("/readyz")
        refused = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": "c"})
        metrics = http.get("/metrics")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "busy", "migrations": "unknown", "secrets": "unknown"}
    assert refused.status_code == 503
    assert metrics.status_code == 200
    assert 'entryway_database_unavailable_total{reason="pool_exhausted"} 1.0' in metrics.text, metrics.text
    assert 'entryway_database_unavailable_total{reason="unreachable"} 0.0' in metrics.text
