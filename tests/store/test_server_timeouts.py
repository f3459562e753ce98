"""PostgreSQL bounds the waits it imposes on Entryway's statements (store/server_timeouts.py): lock_timeout,
statement_timeout and idle_in_transaction_session_timeout on every connection the engine opens, unless the
operator set them; a statement cut short is answered 503 temporarily_unavailable, nothing stored. PostgreSQL
only (SQLite's writers wait on busy_timeout)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.errors import QueryCanceled
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.services.logins import hash_code
from entryway.store.db import make_engine, read_connection
from entryway.store.server_timeouts import DEFAULTS, timed_out, unbounded_statements
from entryway.store.tables import auth_codes
from tests.conftest import make_settings
from tests.oidc_provider.support import CALLBACK, ENV_URL, code_form, issue_code
from tests.support.database_waits import row_locked
from tests.support.databases import POSTGRES_ADMIN_URL
from tests.support.outage_counts import unavailable_by_reason
from tests.support.server import free_port, running_server

SHOWN = {"lock_timeout": "5s", "statement_timeout": "30s", "idle_in_transaction_session_timeout": "1min"}


@pytest.fixture
def backend() -> str:
    """This module's tests on PostgreSQL only (the conftest's `backend` runs each test on both)."""
    return "postgresql"


def _with_options(url: str, options: str) -> str:
    return url + ("&" if "?" in url else "?") + "options=" + quote(options)


def _shown(conn: Any) -> dict[str, str]:
    return {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in SHOWN}


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    try:
        yield made
    finally:
        made.dispose()


# --- (a) the defaults -------------------------------------------------------------------------------------------


def test_every_new_connection_gets_the_three_bounds_and_keeps_them() -> None:
    assert DEFAULTS == {"lock_timeout": "5s", "statement_timeout": "30s", "idle_in_transaction_session_timeout": "60s"}
    with _engine(POSTGRES_ADMIN_URL) as engine:
        with engine.connect() as conn:
            # Set outside any transaction: the connection is handed over idle, not inside one the setting is in.
            assert conn.connection.driver_connection.info.transaction_status == TransactionStatus.IDLE  # type: ignore[union-attr]
            assert _shown(conn) == SHOWN
            conn.rollback()  # as the pool does on every return: a setting made in a transaction would be undone
        with engine.connect() as conn:
            assert _shown(conn) == SHOWN
        with read_connection(engine) as conn:  # autocommit: the login path's reads
            assert _shown(conn) == SHOWN


# --- (b) the operator's values win -------------------------------------------------------------------------------


def test_a_value_in_the_url_s_options_wins_over_the_default() -> None:
    with _engine(_with_options(POSTGRES_ADMIN_URL, "-c lock_timeout=1500ms")) as engine, engine.connect() as conn:
        assert _shown(conn) == {**SHOWN, "lock_timeout": "1500ms"}


def test_a_value_set_for_the_role_wins_over_the_default() -> None:
    role = f"entryway_timeouts_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f"ALTER ROLE \"{role}\" SET lock_timeout = '2s'")
        admin.execute(f'ALTER ROLE "{role}" SET idle_in_transaction_session_timeout = 0')  # "never": a choice too
        try:
            url = POSTGRES_ADMIN_URL.replace("postgres@", f"{role}@", 1)
            assert role in url
            with _engine(url) as engine, engine.connect() as conn:
                assert conn.execute(text("SELECT current_user")).scalar_one() == role
                assert _shown(conn) == {**SHOWN, "lock_timeout": "2s", "idle_in_transaction_session_timeout": "0"}
        finally:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_role_that_may_not_read_pg_settings_connects_without_the_bounds_and_is_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database whose owner revoked pg_settings from PUBLIC: the statement that sets the bounds is refused. The
    connection is kept (the bounds make Entryway sturdier; their absence must not fail every request with it)."""
    name, role = f"entryway_timeouts_revoked_{os.getpid()}", f"entryway_timeouts_revoked_{os.getpid()}"
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        with psycopg.connect(database_url, autocommit=True) as owner:
            owner.execute("REVOKE SELECT ON pg_catalog.pg_settings FROM PUBLIC")
        url = database_url.replace("postgres@", f"{role}@", 1)
        assert role in url
        with caplog.at_level(logging.WARNING, logger="entryway.database"), _engine(url) as engine:
            with engine.connect() as conn:
                # Handed over idle: the refused statement left no transaction, failed or open, behind.
                assert conn.connection.driver_connection.info.transaction_status == TransactionStatus.IDLE  # type: ignore[union-attr]
                assert conn.execute(text("SELECT current_user")).scalar_one() == role
                assert _shown(conn) == {name: "0" for name in SHOWN}  # PostgreSQL's own: nothing was set
                conn.invalidate()  # the next checkout opens a second connection
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        warnings = [r.getMessage() for r in caplog.records if r.name == "entryway.database"]
        assert len(warnings) == 1 and "InsufficientPrivilege" in warnings[0] and "ALTER ROLE" in warnings[0], warnings
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- (c) a request waiting on a lock -------------------------------------------------------------------------------


def test_a_token_request_waiting_on_a_locked_code_is_answered_503_and_its_retry_redeems_the_code_once(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    seed = seed_development(rt, ENV_URL, CALLBACK)
    code = issue_code(rt, seed)
    url = rt.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    invalidated: list[object] = []

    def _invalidated(*args: Any) -> None:
        invalidated.append(args)

    event.listen(rt.engine, "invalidate", _invalidated)
    # A client timeout: without the server's lock_timeout the request would wait until the lock is released.
    with (
        running_server(rt, free_port()) as base,
        httpx.Client(base_url=base, headers={"host": "localhost:8000"}, timeout=15) as http,
        caplog.at_level(logging.ERROR, logger="entryway.database"),
    ):
        try:
            with row_locked(url, "auth_codes", "code_hash", hash_code(code)):  # another transaction holds the code
                started = time.monotonic()
                answer = http.post("/oauth/token", data=code_form(seed, code))
                took = time.monotonic() - started
                # Nothing was stored for it: the code is still unredeemed (a plain read is not blocked).
                with psycopg.connect(url) as reader:
                    used = reader.execute("SELECT used_time, issued_jti FROM auth_codes").fetchall()
                assert used == [(None, None)], used
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "2" and answer.headers["cache-control"] == "no-store"
            assert answer.json()["error"] == "temporarily_unavailable"
            assert "busy" in answer.json()["error_description"]
            assert 4.5 <= took < 9, f"answered after {took:.1f} s"
            lines = [r for r in caplog.records if r.name == "entryway.database"]
            assert [(r.getMessage(), getattr(r, "reason", None)) for r in lines] == [
                ("database busy: a statement waited past its timeout", "LockNotAvailable")
            ]
            assert unavailable_by_reason(rt) == {"unreachable": 0, "timeout": 1, "pool_exhausted": 0}

            # The lock is gone: the app's retry, as is, gets the tokens.
            again = http.post("/oauth/token", data=code_form(seed, code))
            assert again.status_code == 200, again.text
            assert again.json()["access_token"]
        finally:
            event.remove(rt.engine, "invalidate", _invalidated)
    # A lock timeout is no disconnect: the pool kept its connections.
    assert invalidated == []
    with rt.engine.connect() as conn:
        rows = conn.execute(select(auth_codes.c.used_time, auth_codes.c.issued_jti)).all()
    assert len(rows) == 1 and rows[0].used_time is not None and rows[0].issued_jti, rows


# --- readiness, and a session the server ended -------------------------------------------------------------------


@contextmanager
def _served(engine: Engine, options: str, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient, str]]:
    """An app whose engine's URL sets `options` (an operator's shorter bounds keep these tests quick)."""
    url = _with_options(engine.url.render_as_string(hide_password=False), options)
    rt = Runtime.build(make_settings(url, tmp_path), engine=make_engine(url))
    try:
        with TestClient(create_app(rt), base_url=ENV_URL, follow_redirects=False) as http:
            yield rt, http, engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    finally:
        rt.engine.dispose()


def test_a_readiness_check_waiting_on_a_lock_reports_the_database_busy(engine: Engine, tmp_path: Path) -> None:
    with _served(engine, "-c lock_timeout=500ms", tmp_path) as (_rt, http, url):
        assert http.get("/readyz").status_code == 200
        with psycopg.connect(url) as blocker:
            blocker.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")  # as a migration's DDL would
            ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "database": "busy",
            "migrations": "unknown",
            "secrets": "unknown",
        }
        assert http.get("/readyz").status_code == 200


def test_a_session_the_server_ended_for_idling_in_its_transaction_is_answered_503(
    engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL ends a session idle in its transaction past idle_in_transaction_session_timeout (a stuck process,
    here a route that sleeps inside its transaction); the request's next statement fails with
    IdleInTransactionSessionTimeout, an InternalError, not an OperationalError: it must still be the outage's 503."""
    with _served(engine, "-c idle_in_transaction_session_timeout=300ms", tmp_path) as (rt, http, _url):

        def stuck() -> None:
            with rt.engine.begin() as conn:
                conn.execute(text("SELECT 1"))
                time.sleep(1.0)
                conn.execute(text("SELECT 1"))

        app = http.app
        app.add_api_route("/api/v1/stuck", stuck, methods=["POST"])  # type: ignore[attr-defined]
        app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]  # before /api's catch-all
        answer = http.post("/api/v1/stuck")
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["details"][0]["error_code"] == "UNAVAILABLE"
        assert "unavailable" in answer.json()["message"]
        assert unavailable_by_reason(rt) == {"unreachable": 1, "timeout": 0, "pool_exhausted": 0}
        # The pool recovers by itself: the next request gets a live connection.
        assert http.get("/readyz").status_code == 200


def test_work_that_may_run_long_lifts_statement_timeout_for_its_own_transaction_only(engine: Engine) -> None:
    url = _with_options(engine.url.render_as_string(hide_password=False), "-c statement_timeout=200ms")
    with _engine(url) as short, short.connect() as conn:
        with pytest.raises(OperationalError) as cut:
            conn.execute(text("SELECT pg_sleep(0.5)"))
        assert isinstance(cut.value.orig, QueryCanceled) and timed_out(cut.value)  # answered as "busy"
        conn.rollback()
        unbounded_statements(conn)
        conn.execute(text("SELECT pg_sleep(0.5)"))
        conn.rollback()
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "200ms"  # the next one is bounded again
