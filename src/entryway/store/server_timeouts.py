"""The waits PostgreSQL itself may impose on a statement, bounded on every connection Entryway opens.

libpq's settings (store/db.py) bound a server that cannot be reached or has gone silent; a server that answers
but makes a statement wait (on a row or table lock another transaction holds, a migration's among them) is bounded
only by these server settings. Without them a request waiting on a lock waits for ever, holding a pool connection
and a thread (or, with login steps in place, its whole worker).

An operator's value wins: a setting is given Entryway's default only where PostgreSQL still has its built-in one
(pg_settings.source = 'default'), so `options=-c lock_timeout=…` in the URL, `ALTER ROLE … SET`,
`ALTER DATABASE … SET` and postgresql.conf all take precedence. It costs one round trip per new connection, none
per request: the pool reuses connections.

Where the statement itself is refused (a role that may not read pg_settings, on a database whose owner revoked it
from PUBLIC; a PostgreSQL-compatible server without the view), the connection is kept without the bounds and a
warning says so once per engine: the bounds make Entryway sturdier, and their absence must not make every connection
fail. The operator then sets them for the role (`ALTER ROLE … SET`). A failure of the connection or of the server
(OperationalError: a disconnect, a timeout) still fails the connection.

A statement cut short by them fails with LockNotAvailable (55P03) or QueryCanceled (57014), both OperationalError:
its transaction is rolled back, nothing is stored, and the request is answered 503 with Retry-After
(observability/outage.py). A connection the server ended for idling in a transaction raises
IdleInTransactionSessionTimeout (an InternalError), which SQLAlchemy takes as a disconnect.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("entryway.database")

# A login statement takes milliseconds and locks one row, or none, for as long. Five seconds covers any lock
# another login or a background job legitimately holds, and is shorter than the 10 s a request may already wait
# for a pool connection; it is also longer than the 2 s a migration waits for its lock (store/migration_locks.py),
# so logins queued behind a migration's lock request get through when the migration gives up.
LOCK_TIMEOUT = "5s"
# No statement of the serving path scans more than an index range; 30 s is far beyond any of them, even on a
# loaded server, yet it frees a connection (and its thread) stuck on a pathological plan. Work that may
# legitimately run longer (migrations, bulk loads, counting a huge table) lifts it for its own transaction:
# `unbounded_statements`.
STATEMENT_TIMEOUT = "30s"
# No Entryway transaction waits on anything but the database between its statements (an IdP is called outside
# any transaction), so one idle for a minute belongs to a stuck or frozen process: PostgreSQL ends its session,
# which frees the locks it holds for the logins waiting on them.
IDLE_IN_TRANSACTION_SESSION_TIMEOUT = "60s"

DEFAULTS: dict[str, str] = {
    "lock_timeout": LOCK_TIMEOUT,
    "statement_timeout": STATEMENT_TIMEOUT,
    "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
}

# One statement sets every default the session still has from PostgreSQL itself (source 'default'), and only
# those. is_local false: for the session, not for a transaction.
_APPLY = (
    "SELECT pg_catalog.set_config(s.name, d.value, false) "
    "FROM (VALUES {values}) AS d(name, value) JOIN pg_catalog.pg_settings s ON s.name = d.name "
    "WHERE s.source = 'default'"
)


def session_defaults_statement(values: dict[str, str]) -> str:
    # The names and values are this module's constants (or a test's), never input: formatted, not bound, so the
    # statement needs no parameters of its own.
    rows = ", ".join(f"('{name}', '{value}')" for name, value in values.items())
    return _APPLY.format(values=rows)


def apply_defaults(values: dict[str, str] = DEFAULTS) -> Any:
    """A "connect" listener for a PostgreSQL engine that gives each new connection `values`."""
    statement = session_defaults_statement(values)
    warned = False

    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        nonlocal warned
        # In autocommit, so the statement opens no transaction: psycopg would begin one otherwise, and a
        # session-level set_config inside a transaction later rolled back (as the pool does on every return) is
        # undone with it. Switching is a client-side flag on an idle connection: no round trip.
        was = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        try:
            with dbapi_conn.cursor() as cursor:
                cursor.execute(statement)
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError) or dbapi_conn.broken:
                raise  # the server or the connection failed: the request's 503
            # Refused, on a connection still sound (in autocommit, idle again): serve without the bounds.
            if not warned:
                warned = True
                log.warning(
                    "lock_timeout, statement_timeout and idle_in_transaction_session_timeout not set on new "
                    "connections (%s): set them for Entryway's role (ALTER ROLE ... SET lock_timeout = '5s', ...)",
                    type(exc).__name__,
                )
        finally:
            dbapi_conn.autocommit = was

    return _on_connect


def timed_out(exc: BaseException) -> bool:
    """Whether PostgreSQL cut this statement short on one of the bounds above (lock_timeout, statement_timeout):
    the database answers, it is busy rather than down."""
    return isinstance(exc, DBAPIError) and isinstance(exc.orig, (LockNotAvailable, QueryCanceled))


def unbounded_statements(conn: Connection) -> None:
    """Lift statement_timeout for the rest of `conn`'s transaction, for work that may legitimately run longer
    (a bulk load, an index build, a count of a huge table). lock_timeout still applies: a long statement is
    expected, a long wait on another transaction is not. Nothing on SQLite, whose writers wait on busy_timeout."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL statement_timeout = 0"))
