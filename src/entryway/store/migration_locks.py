"""`entryway migrate` while instances serve: the migration waits briefly for its locks, and tries again.

An ALTER TABLE needs its table's ACCESS EXCLUSIVE lock. Queued behind a transaction that holds any lock on the
table (a long report, a session left idle in its transaction), it waits, and every later statement on the table,
each login's among them, queues behind it: logins stall for as long as the migration waits. So the migration's
transaction waits at most MIGRATION_LOCK_TIMEOUT for any lock, shorter than the serving instances' lock_timeout
(store/server_timeouts.py), so the logins queued behind it get through when it gives up; then it tries again
after a short pause, up to LOCK_ATTEMPTS times, saying so each time, and in the end says what to look for.

Every migration of a run shares one transaction (migrations/env.py), so a run that gave up left nothing: no
partial schema, no alembic_version or schema_history row. Running it again starts from the same revision.
Statements are not bounded in time (statement_timeout 0): an index build on a large table may take minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

from psycopg.errors import DeadlockDetected, LockNotAvailable
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

# Shorter than the serving lock_timeout (5 s): a login queued behind the migration's lock request still has
# time left when the migration lets go.
MIGRATION_LOCK_TIMEOUT_SECONDS = 2
LOCK_ATTEMPTS = 10
# Pause before attempt n+1: 1, 2, 3, 4, then 5 s. Ten attempts span about a minute, long enough for a usual
# long transaction to end, short enough that an operator is not left wondering.
MOST_PAUSE_SECONDS = 5.0

T = TypeVar("T")

# The table a DDL or DML statement locks, for the progress lines (the lock timeout's error does not name it).
_TABLE = re.compile(
    r"^\s*(?:ALTER\s+TABLE(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?|LOCK(?:\s+TABLE)?(?:\s+ONLY)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\S*\s*ON(?:\s+ONLY)?"
    r"|UPDATE(?:\s+ONLY)?|INSERT\s+INTO|DELETE\s+FROM(?:\s+ONLY)?|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?)"
    r"\s+(\"[^\"]+\"|[\w.]+)",
    re.IGNORECASE,
)


class MigrationLocked(RuntimeError):
    """Every attempt gave up waiting for a lock; nothing was applied."""


def bound_waits(conn: Connection) -> None:
    """For the migration run's transaction (env.py): lock waits bounded, statements not."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT set_config('lock_timeout', :lock, true), set_config('statement_timeout', '0', true)"),
            {"lock": f"{MIGRATION_LOCK_TIMEOUT_SECONDS}s"},
        )


def locked_table(statement: str | None) -> str | None:
    found = _TABLE.match(statement or "")
    return found.group(1).strip('"') if found else None


def pause_before(attempt: int) -> float:
    return min(float(attempt), MOST_PAUSE_SECONDS)


def waiting_out_locks(run: Callable[[], T], progress: Callable[[str], None]) -> T:
    """`run()` (a whole migration run), again after a pause each time it gave up waiting for a lock."""
    attempts = LOCK_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except OperationalError as exc:
            # A deadlock aborts the run as a lock timeout does, with nothing applied: as safe to try again.
            if not isinstance(exc.orig, (LockNotAvailable, DeadlockDetected)):
                raise
            table = locked_table(exc.statement)
            what = f"a lock on {table}" if table else "a lock"
            if attempt == attempts:
                raise MigrationLocked(_gave_up(what, table, attempts)) from exc
            pause = pause_before(attempt)
            ended = (
                f"gave up after {MIGRATION_LOCK_TIMEOUT_SECONDS} s"
                if isinstance(exc.orig, LockNotAvailable)
                else "deadlocked with it and was rolled back"
            )
            progress(
                f"waiting for {what}, held by another transaction: attempt {attempt} of {attempts} {ended}, "
                f"nothing applied; trying again in {pause:.0f} s"
            )
            time.sleep(pause)
    raise AssertionError("unreachable")  # the loop returns or raises


# Queries printed for the operator to run in psql (here and by the CLI's busy message), never run by Entryway:
# the sessions that may hold what a statement waits for.
_SESSIONS = "SELECT pid, usename, application_name, state, xact_start, query FROM pg_stat_activity"
LONG_TRANSACTIONS_QUERY = f"{_SESSIONS} WHERE xact_start < now() - interval '1 minute' ORDER BY xact_start"


def _gave_up(what: str, table: str | None, attempts: int) -> str:
    holders = (
        f"{_SESSIONS} WHERE pid IN (SELECT pid FROM pg_locks WHERE relation = '{table}'::regclass)"  # noqa: S608
        if table
        else LONG_TRANSACTIONS_QUERY
    )
    return (
        f"not migrated: waiting for {what} gave up {attempts} times ({MIGRATION_LOCK_TIMEOUT_SECONDS} s each); "
        "nothing was applied, and the database is still at its previous revision. "
        "Another transaction holds the lock: a long-running query, or a session left idle in its transaction. "
        f"Find it with `{holders}`, let it finish or end it (SELECT pg_terminate_backend(pid)), then run "
        "`entryway migrate` again."
    )
