"""`entryway migrate` while instances serve (store/migration_locks.py): a migration whose table another transaction
holds waits 2 s at most for its lock, so statements queued behind it get through, then tries again; if the lock
never comes it gives up with what to do, having changed nothing, and a later run succeeds. PostgreSQL, on a
scratch database migrated to the revision before 0018_sealed_counts (which alters data_keys)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select

from entryway.cli import main
from entryway.store import migration_locks
from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from entryway.store.migration_locks import locked_table
from entryway.store.schema_version import current_revision, head_revision
from entryway.store.tables import schema_history
from tests.conftest import TEST_MASTER_KEY
from tests.support.database_waits import wait_for, waiting_on_lock
from tests.support.databases import scratch_postgres_database

BEFORE = "0017_schema_history"
ALTERED = "data_keys"  # the table 0018_sealed_counts alters


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A fresh database at BEFORE, dropped afterwards."""
    with scratch_postgres_database("migration_locks") as url:
        engine = make_engine(url)
        try:
            upgrade(engine, BEFORE)
        finally:
            engine.dispose()
        yield url


def _migrate(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    env = {
        "ENTRYWAY_DATABASE_URL": url,
        "ENTRYWAY_DATA_DIR": str(tmp_path),
        "ENTRYWAY_MASTER_KEY": base64.urlsafe_b64encode(TEST_MASTER_KEY).decode(),
    }
    return CliRunner().invoke(main, ["migrate"], env=env)


def _state(url: str) -> tuple[str | None, bool, set[str]]:
    """(revision, whether data_keys has sealed_count, the revisions schema_history records)"""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            column = "sealed_count" in {c["name"] for c in inspect(conn).get_columns(ALTERED)}
            recorded = set(conn.scalars(select(schema_history.c.revision)))
        return current_revision(engine), column, recorded
    finally:
        engine.dispose()


def _holding_the_table(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """A transaction that read the table and stays open (a long report, a session left idle): it holds ACCESS SHARE,
    which the migration's ALTER TABLE must wait for."""
    blocker = psycopg.connect(url)
    blocker.execute(f"SELECT count(*) FROM {ALTERED}")
    return blocker


def test_a_migration_waits_out_a_lock_released_meanwhile_and_says_so(
    scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = _holding_the_table(scratch_url)
    release = threading.Timer(3.0, blocker.rollback)
    release.start()
    try:
        result = _migrate(scratch_url, tmp_path, monkeypatch)
    finally:
        release.cancel()
        blocker.close()
    assert result.exit_code == 0, (result.output, result.exception)
    waits = [line for line in result.output.splitlines() if line.startswith("waiting for a lock on data_keys")]
    assert waits and "attempt 1 of 10 gave up after 2 s, nothing applied; trying again in 1 s" in waits[0], (
        result.output
    )
    assert result.output.splitlines()[-1] == "database is at the newest migration"
    revision, column, recorded = _state(scratch_url)
    assert (revision, column) == (head_revision(), True) and "0018_sealed_counts" in recorded


def test_a_migration_that_never_gets_its_lock_gives_up_changing_nothing_and_lets_queries_through(
    scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration_locks, "LOCK_ATTEMPTS", 2)
    before = _state(scratch_url)
    assert before[:2] == (BEFORE, False)
    blocker = _holding_the_table(scratch_url)
    probe_took: list[float] = []

    def probe() -> None:
        """A serving instance's read of the table, sent while the migration waits for its lock: it queues behind
        the migration's request, and must get through when the migration gives up, not when the lock is free."""
        wait_for(lambda: waiting_on_lock(scratch_url), "the migration never waited for its lock")
        with psycopg.connect(scratch_url) as conn:
            conn.execute("SET lock_timeout = '10s'")  # fails, rather than hangs, if it waits for the blocker
            started = time.monotonic()
            conn.execute(f"SELECT count(*) FROM {ALTERED}")
            probe_took.append(time.monotonic() - started)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        result = _migrate(scratch_url, tmp_path, monkeypatch)
    finally:
        prober.join(timeout=30)
        still_blocked = _state(scratch_url)
        blocker.close()
    assert result.exit_code == 1, (result.output, result.exception)
    assert "waiting for a lock on data_keys, held by another transaction: attempt 1 of 2 gave up" in result.output
    assert "Error: not migrated: waiting for a lock on data_keys gave up 2 times (2 s each)" in result.output
    assert "relation = 'data_keys'::regclass" in result.output and "run `entryway migrate` again" in result.output
    # Nothing applied: neither the column, nor alembic_version, nor a schema_history row.
    assert still_blocked == before
    assert probe_took and probe_took[0] < 3.0, probe_took

    again = _migrate(scratch_url, tmp_path, monkeypatch)
    assert again.exit_code == 0, again.output
    assert "waiting for a lock" not in again.output
    revision, column, recorded = _state(scratch_url)
    assert (revision, column) == (head_revision(), True) and recorded == before[2] | {"0018_sealed_counts"}


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("ALTER TABLE data_keys ADD COLUMN sealed_count BIGINT", "data_keys"),
        ('ALTER TABLE IF EXISTS ONLY "auth_codes" DROP COLUMN x', "auth_codes"),
        ("CREATE UNIQUE INDEX ix_a ON auth_events (create_time)", "auth_events"),
        ("UPDATE data_keys SET sealed_count=NULL", "data_keys"),
        ("INSERT INTO schema_history (revision) VALUES (%(r)s)", "schema_history"),
        ("CREATE FUNCTION f() RETURNS trigger", None),
        (None, None),
    ],
)
def test_the_progress_lines_name_the_table_the_statement_locks(statement: str | None, table: str | None) -> None:
    assert locked_table(statement) == table


def test_a_run_that_deadlocked_is_tried_again(scratch_url: str) -> None:
    """A deadlock aborts the run's one transaction, as a lock timeout does: nothing applied, so it is tried again
    (a real deadlock: the run locks row a then wants b, while another session holds b and wants a)."""
    with psycopg.connect(scratch_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE deadlock_probe (id int PRIMARY KEY)")
        setup.execute("INSERT INTO deadlock_probe VALUES (1), (2)")
    engine = make_engine(scratch_url)
    other = psycopg.connect(scratch_url)
    lines: list[str] = []
    runs: list[int] = []

    def run() -> str:
        runs.append(1)
        if len(runs) > 1:
            return "done"
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE deadlock_probe SET id = id WHERE id = 1")
            other.execute("UPDATE deadlock_probe SET id = id WHERE id = 2")
            # The other session then waits for row 1, after this one started waiting for row 2: this one's
            # deadlock check (deadlock_timeout after it began to wait) comes first, and it is the one aborted.
            closer = threading.Timer(0.3, lambda: other.execute("UPDATE deadlock_probe SET id = id WHERE id = 1"))
            closer.start()
            try:
                conn.exec_driver_sql("UPDATE deadlock_probe SET id = id WHERE id = 2")
            finally:
                closer.join()
        return "not deadlocked"

    try:
        assert migration_locks.waiting_out_locks(run, lines.append) == "done"
    finally:
        other.close()
        engine.dispose()
    assert len(runs) == 2, lines
    assert len(lines) == 1 and lines[0].startswith("waiting for a lock on deadlock_probe, held by another transaction:")
    assert "attempt 1 of 10 deadlocked with it and was rolled back, nothing applied; trying again in 1 s" in lines[0]
