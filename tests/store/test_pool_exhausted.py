"""A process whose database connections are all taken answers 503 with Retry-After, never a 500, and runs fewer
request threads than it has connections (store/db.py, web/thread_limit.py)."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.store.db import POOL_OVERFLOW, POOL_SIZE, POOL_TIMEOUT_SECONDS, make_engine
from entryway.web.thread_limit import REQUEST_THREADS
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


def test_a_request_finding_no_free_connection_is_answered_503(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    one = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    rt = Runtime.build(make_settings(url, tmp_path), engine=one)
    try:
        with TestClient(create_app(rt), base_url="http://localhost:8000") as http, one.connect():
            # The pool's only connection is held: the token endpoint cannot read its client.
            answer = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": "c"})
            page = http.get("/oauth/authorize", params={"client_id": "x"})
    finally:
        one.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "temporarily_unavailable"
    assert answer.headers["retry-after"] == "2"
    assert page.status_code == 503 and "temporarily_unavailable" in page.text


def test_a_worker_runs_fewer_request_threads_than_it_has_connections(engine: Engine, tmp_path: Path) -> None:
    rt = Runtime.build(make_settings(engine.url.render_as_string(hide_password=False), tmp_path), engine=engine)
    app = create_app(rt)

    @app.get("/test-thread-limit")
    async def thread_limit() -> dict[str, float]:
        return {"threads": anyio.to_thread.current_default_thread_limiter().total_tokens}

    with TestClient(app) as http:
        threads = http.get("/test-thread-limit").json()["threads"]
    assert threads == REQUEST_THREADS < POOL_SIZE + POOL_OVERFLOW
