"""Holding a login step in flight inside the database, for the fault tests: another session locks what the step
is about to write, so the step waits there (its transaction open, nothing committed) until the test lets it go,
kills its instance, or restarts PostgreSQL under it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql


def waiting_on_lock(database_url: str, count: int = 1) -> bool:
    """Whether at least `count` sessions of the database wait on a lock."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
    return bool(row and row[0] >= count)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@contextmanager
def row_locked(database_url: str, table: str, column: str, value: str) -> Iterator[psycopg.Connection[Any]]:
    """The row of `table` whose `column` is `value`, locked FOR UPDATE for the block: a plain read of it goes on,
    an UPDATE of it waits. The lock ends when the block does (or when PostgreSQL ends the session)."""
    blocker = psycopg.connect(database_url)
    try:
        query = sql.SQL("SELECT 1 FROM {} WHERE {} = %s FOR UPDATE").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        found = blocker.execute(query, (value,)).fetchone()
        assert found, f"no {table} row to lock"
        yield blocker
    finally:
        blocker.close()  # rolls back; a session PostgreSQL already ended closes all the same


def codes_per_login(database_url: str) -> dict[str, int]:
    """How many authorization codes each auth request was given."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT auth_request_id, count(*) FROM auth_codes GROUP BY auth_request_id").fetchall()
    return {r[0]: r[1] for r in rows}
