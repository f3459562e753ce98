"""A command's database failures, told as a message a person can act on instead of a traceback.

SQLAlchemy's own text of a failed statement carries the statement and its `[parameters: ...]`, and a command's
parameters may be secret material (a client secret's hash, a sealed key): neither is ever shown. A message names
the database as ENTRYWAY_DATABASE_URL gives it, without its password, and the driver's first line (psycopg's
"connection to server at ... failed: Connection refused", SQLite's "no such table: environments"), which names
hosts, databases, roles and tables, never a value. Four kinds are expected conditions:

- the database cannot be reached: the failure came while opening a connection (refused, unknown host, refused
  credentials, a SQLite file that cannot be opened), or SQLAlchemy took it as a disconnect (the connection was
  lost during the command);
- the schema is not this release's: the command touched a table or column the database does not have (it is not
  migrated, or a newer release migrated it);
- the database is busy: PostgreSQL cut a statement short on its lock or statement timeout
  (store/server_timeouts.py), SQLite stayed locked by another writer past its busy timeout, or no pooled
  connection came free;
- (cli/locked_secrets.py: the stored secrets cannot be opened with this process's master keys.)

Anything else (a syntax error, a constraint a command should have checked, a missing table in a database at this
release's revision) is a defect, and keeps its traceback.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from typing import Any

from psycopg.errors import UndefinedColumn, UndefinedTable
from sqlalchemy import event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway.observability.database_failures import failure_kind
from entryway.store.db import make_engine
from entryway.store.migration_locks import LONG_TRANSACTIONS_QUERY
from entryway.store.schema_version import head_revision, known_revisions, revision_of

# SQLite's wording for a statement naming a table or column its schema lacks (all SQLITE_ERROR, like a syntax
# error: the message is all that tells them apart).
_SQLITE_SCHEMA_MISSING = ("no such table:", "no such column:", "has no column named")
# libpq's connection parameters that hold a secret, should the URL's query give them.
_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


class CommandDatabase:
    """The engine of one CLI command, watched so that a failure can be explained.

    Two things are only known as they happen: whether a failure came while a connection was being opened (SQLAlchemy's
    handle_error event sees it; the exception itself does not say), and whether the command had already committed
    something (a command of several steps, such as `dev` or `keys rotate-master`), so "nothing was changed" is only
    said when it is true."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url  # as the operator set it: postgresql://, before make_engine names the driver
        self.engine = make_engine(url, **engine_options)  # first: it refuses a URL that names no database
        parsed = make_url(url)
        # libpq also takes the password as a query parameter (?password=...), which hide_password leaves as it is.
        masked = parsed.update_query_dict({k: "***" for k in parsed.query if k in _SECRET_PARAMETERS})
        # The database as ENTRYWAY_DATABASE_URL names it, its password masked.
        self.shown = masked.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
        self.committed = False
        self._thread = threading.get_ident()
        self._while_connecting: weakref.WeakSet[BaseException] = weakref.WeakSet()
        event.listen(self.engine, "handle_error", self._on_error)
        event.listen(self.engine, "commit", self._on_commit)

    def _on_error(self, context: ExceptionContext) -> None:
        # `connection` is None only for a failure to open one (SQLAlchemy's ExceptionContext).
        if context.connection is None and context.sqlalchemy_exception is not None:
            self._while_connecting.add(context.sqlalchemy_exception)

    def _on_commit(self, _conn: Any) -> None:
        # The command's own thread: a background write of seal counts (keys/seal_counts.py) is bookkeeping, not
        # a step of the command.
        if threading.get_ident() == self._thread:
            self.committed = True

    # --- wording -------------------------------------------------------------------------------------------

    @property
    def outcome(self) -> str:
        if not self.committed:
            return "nothing was changed"
        return "the step that failed changed nothing, but earlier steps of this command were saved: run it again"

    @staticmethod
    def _driver_says(exc: BaseException) -> str:
        """The driver's first line: what failed, without the statement or its parameters."""
        orig = exc.orig if isinstance(exc, DBAPIError) else None
        primary = getattr(getattr(orig, "diag", None), "message_primary", None)  # psycopg's, without LINE/CONTEXT
        text = (primary or str(orig or "")).strip()
        return text.splitlines()[0].strip() if text else type(orig or exc).__name__

    @property
    def _is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    # --- classification ------------------------------------------------------------------------------------

    def explain(self, exc: BaseException) -> str | None:
        """The message for an expected database failure, or None: a defect, to be raised as it is."""
        if not isinstance(exc, SQLAlchemyError):
            return None
        if self._busy(exc):
            return self._busy_message(exc)
        if _schema_missing(exc):
            return self._schema_message(exc)
        if exc in self._while_connecting:
            return self._unreachable_message(exc, lost=False)
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return self._unreachable_message(exc, lost=True)
        return None

    @staticmethod
    def _busy(exc: SQLAlchemyError) -> bool:
        if failure_kind(exc) in ("timeout", "pool_exhausted"):
            return True
        orig = exc.orig if isinstance(exc, DBAPIError) else None
        # SQLITE_BUSY: another connection holds the write lock past busy_timeout ("database is locked").
        return isinstance(orig, sqlite3.OperationalError) and getattr(orig, "sqlite_errorname", "").startswith(
            "SQLITE_BUSY"
        )

    def _busy_message(self, exc: SQLAlchemyError) -> str:
        if isinstance(exc, PoolTimeout):
            cause = "no database connection came free in time"
        else:
            cause = f"another transaction holds what this command needs ({self._driver_says(exc)})"
        if self._is_sqlite:
            find = "Another process is writing to the file: wait for it to finish, then run the command again."
        else:
            find = (
                "Try again in a moment. If it keeps happening, find the transaction that holds it (a long-running "
                f"query, or a session left idle in its transaction) with `{LONG_TRANSACTIONS_QUERY}`, let it finish or "
                "end it (SELECT pg_terminate_backend(pid))."
            )
        return f"the database {self.shown} is busy: {cause}; {self.outcome}.\n  {find}"

    def _schema_message(self, exc: SQLAlchemyError) -> str | None:
        missing = self._driver_says(exc)
        head = head_revision()
        try:
            with self.engine.connect() as conn:
                revision = revision_of(conn)
        except SQLAlchemyError:  # gone meanwhile: the message still says what to do
            state = f"it lacks what this command needs ({missing})"
            return self._not_migrated(state)
        if revision == head:
            # The schema should have it: a statement naming a table no migration makes is a defect, not the
            # operator's to fix.
            return None
        if revision is None:
            state = f"it has not been migrated at all ({missing}); this release needs revision {head}"
        elif revision not in known_revisions():
            return (
                f"the database {self.shown} was migrated by a newer release of Entryway: it is at revision "
                f"{revision}, which this release does not know (its newest is {head}), and lacks what this "
                f"command needs ({missing}); {self.outcome}.\n"
                "  Run the newer release's `entryway` against it; this release cannot use it, and its "
                "`entryway migrate` refuses to change it."
            )
        else:
            state = f"it is at revision {revision}, this release needs {head} ({missing})"
        return self._not_migrated(state)

    def _not_migrated(self, state: str) -> str:
        return (
            f"the database {self.shown} is not migrated to this release's schema: {state}; {self.outcome}.\n"
            "  Run `entryway migrate` (with this release), then the command again."
        )

    def _unreachable_message(self, exc: SQLAlchemyError, *, lost: bool) -> str:
        if lost:
            what = f"lost the connection to the database {self.shown} during the command"
            check = (
                "Check that the database server is up (it may have restarted, or ended the session), "
                "then run the command again."
            )
        else:
            what = f"cannot reach the database {self.shown} (ENTRYWAY_DATABASE_URL)"
            check = (
                "Check that the file's directory exists and that this user may read and write both the file and "
                "its directory (SQLite writes its journal beside it)."
                if self._is_sqlite
                else "Check that the server is running and accepts connections from this host, and that "
                "ENTRYWAY_DATABASE_URL's host, port, database name, user and password are right."
            )
        return f"{what}; {self.outcome}.\n  {self._driver_says(exc)}\n  {check}"


def _schema_missing(exc: SQLAlchemyError) -> bool:
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if isinstance(orig, (UndefinedTable, UndefinedColumn)):
        return True
    return isinstance(orig, sqlite3.OperationalError) and any(
        wording in str(orig) for wording in _SQLITE_SCHEMA_MISSING
    )
