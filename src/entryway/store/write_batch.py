"""A login step's writes, sent to the database together: on PostgreSQL as one statement.

Each login step ends in a handful of inserts (the auth request and its log row; the replay record, the code, the
log row, the webhook event and the SAML session), some of them conditional on one guarding UPDATE (the request
still pending, the code not yet redeemed). Sent one by one inside BEGIN ... COMMIT, a login cost 18 round trips
to PostgreSQL, and the driver's work per statement was about as much CPU as the database's (bench/README.md,
"Session 11"). A WriteBatch collects them and sends:

- on PostgreSQL, one statement of data-modifying CTEs. The writes given after the guard insert
  `SELECT ... FROM guard`, so they happen only when the guard's UPDATE matched its row; the statement answers
  how many rows the guard matched;
- on SQLite (in process: no round trips to save), the same writes one after another, the guarded ones only
  after the guard matched.

Both keep the same outcome: the writes given before the guard are stored whether or not it matches (the SAML
replay record: an assertion that was presented is never accepted again), the guarded ones only if it matched;
a unique violation anywhere (a replayed assertion) fails the whole batch with sqlalchemy's IntegrityError, and
nothing of it is stored.

When it commits: by default in a transaction whose COMMIT is sent only once the statement has answered (three
round trips: BEGIN, the statement, COMMIT). A step that consumes something (the ACS its auth request, the token
endpoint its code) must not consume it for an instance that dies before it can answer: that instance never
sends COMMIT, the database rolls back, and the browser's retry succeeds on another instance
(tests/operations/test_faults.py). As one autocommit statement, the database would commit whatever the
instance's fate once the statement ran, even after a wait on a lock. A step that consumes nothing (authorize:
its auth request merely expires unused) may ask for `commit="with_statement"`: one round trip.

`insert_row(target, statement, values)` lets a service write either to a batch or to a connection inside the
caller's own transaction (the admin portal's test login, IdP-initiated SSO), with the same code.

A row may come with `on_stored`, what to do outside the database once the row is stored (the auth log counts
the login step in `entryway_login_events_total`): it runs after the COMMIT of the transaction that stored the row,
and never for a row that was not stored (given after a guard that did not match, in a batch that failed on a
unique violation, or in a transaction that rolled back). A batch sent inside the caller's transaction, and a row
inserted on a connection, leave it to `store.after_commit.transaction`, which the caller opens instead of
`engine.begin()`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, overload

from sqlalchemy import Connection, Engine, Insert, Select, Table, Update, bindparam, func, insert, literal, select

from entryway.store.after_commit import Committing, OnCommit, after_commit, run_effect, transaction
from entryway.store.db import read_connection
from entryway.store.hot_statements import HotStatement

Commit = Literal["after_answer", "with_statement"]

# Composed statements by shape (the tables, their columns, the guard). A login path has a few shapes; a step that
# fans out to many webhook endpoints has one per endpoint count. Past this many the statement is built each time.
_MAX_SHAPES = 256
_shapes: dict[tuple[Any, ...], HotStatement] = {}
_shapes_lock = threading.Lock()

# An insert: its HotStatement, its table, its values, and what to run once the row is stored and committed.
_Row = tuple[HotStatement, Table, dict[str, Any], OnCommit | None]


class WriteBatch:
    """Inserts, at most one guarding UPDATE, and the inserts that happen only if the guard matched a row."""

    def __init__(self) -> None:
        self._before: list[_Row] = []
        self._guard: tuple[HotStatement, dict[str, Any]] | None = None
        self._after: list[_Row] = []

    def insert(self, statement: HotStatement, values: Mapping[str, Any], on_stored: OnCommit | None = None) -> None:
        """Add the row `statement` (a HotStatement of `insert(table)`) would insert with `values`; `on_stored` runs
        once the row is stored and committed, never if it is not."""
        table = _table_of(statement)
        missing = _python_defaults(table) - values.keys()
        if missing:
            given = ", ".join(sorted(missing))
            raise ValueError(f"{table.name}: give every column with a Python-side default ({given})")
        row = (statement, table, dict(values), on_stored)
        (self._after if self._guard is not None else self._before).append(row)

    def guard(self, statement: HotStatement, values: Mapping[str, Any]) -> None:
        """The UPDATE (of one row, by key and condition) that decides whether the inserts given after it happen."""
        if self._guard is not None:
            raise ValueError("a write batch has one guard")
        if not isinstance(statement.statement, Update):
            raise TypeError("a write batch's guard is an UPDATE")
        self._guard = (statement, dict(values))

    def execute(self, engine: Engine, *, commit: Commit = "after_answer") -> bool:
        """Store the batch on a connection of its own; False when the guard matched no row (only the writes given
        before it were stored). Raises sqlalchemy's IntegrityError, with nothing stored, on a unique violation.

        `commit="with_statement"` sends it on PostgreSQL as one autocommit statement, for a step that consumes
        nothing (the module's docstring)."""
        if not self._before and self._guard is None:
            return True
        if commit == "with_statement" and engine.dialect.name == "postgresql":
            with read_connection(engine) as conn:  # autocommit: the one statement is its own transaction
                matched = self._as_one_statement(conn)
            for on_stored in self._stored(matched):
                run_effect(on_stored)
            return matched
        with transaction(engine) as conn:
            return self.execute_in(conn)

    def execute_in(self, conn: Committing) -> bool:
        """Store the batch inside the caller's transaction (beside writes of the caller's own). The rows'
        `on_stored` run once that transaction has committed: the caller opens it with
        `store.after_commit.transaction(engine)`."""
        if not self._before and self._guard is None:
            return True
        matched = self._as_one_statement(conn) if conn.dialect.name == "postgresql" else self._one_by_one(conn)
        for on_stored in self._stored(matched):
            after_commit(conn, on_stored)
        return matched

    def _stored(self, matched: bool) -> list[OnCommit]:
        """The `on_stored` of the rows the batch stored: those given before the guard, and after it if it matched."""
        rows = self._before + self._after if matched else self._before
        return [row[3] for row in rows if row[3] is not None]

    def _one_by_one(self, conn: Connection) -> bool:
        for statement, _table, values, _on_stored in self._before:
            statement.run(conn, values)
        if self._guard is not None:
            guard, given = self._guard
            if guard.run(conn, given) != 1:
                return False
        for statement, _table, values, _on_stored in self._after:
            statement.run(conn, values)
        return True

    def _as_one_statement(self, conn: Connection) -> bool:
        shape = (
            tuple((table, tuple(sorted(values))) for _statement, table, values, _on_stored in self._before),
            (self._guard[0], tuple(sorted(self._guard[1]))) if self._guard is not None else None,
            tuple((table, tuple(sorted(values))) for _statement, table, values, _on_stored in self._after),
        )
        statement = _shapes.get(shape)
        if statement is None:
            statement = HotStatement(_compose(*shape))
            with _shapes_lock:
                if len(_shapes) < _MAX_SHAPES:
                    _shapes[shape] = statement
        parameters: dict[str, Any] = {}
        for n, (_statement, _table, values, _on_stored) in enumerate(self._before):
            parameters.update({f"b{n}_{column}": value for column, value in values.items()})
        if self._guard is not None:
            parameters.update(self._guard[1])
        for n, (_statement, _table, values, _on_stored) in enumerate(self._after):
            parameters.update({f"a{n}_{column}": value for column, value in values.items()})
        row = statement.first(conn, parameters)
        assert row is not None  # the composed SELECT always answers one row
        return self._guard is None or row["matched"] == 1


Writes = Connection | WriteBatch
"""Where a service's inserts go: a connection inside the caller's transaction, or a batch the caller sends."""

CountedWrites = Committing | WriteBatch
"""Where a row with an effect (`on_stored`: a login counted) goes: a connection inside the transaction the caller
opened with `store.after_commit.transaction`, so the effect waits for its COMMIT, or a batch."""


@overload
def insert_row(target: Writes, statement: HotStatement, values: Mapping[str, Any]) -> None: ...
@overload
def insert_row(
    target: CountedWrites, statement: HotStatement, values: Mapping[str, Any], on_stored: OnCommit
) -> None: ...
def insert_row(
    target: Writes, statement: HotStatement, values: Mapping[str, Any], on_stored: OnCommit | None = None
) -> None:
    """Insert one row now (a connection: `on_stored` runs after its transaction commits, see
    store/after_commit.py) or with the batch (a WriteBatch: once the batch's row is stored and committed)."""
    if isinstance(target, WriteBatch):
        target.insert(statement, values, on_stored)
    else:
        statement.run(target, values)
        if on_stored is not None:
            # The overloads let only a Committing connection bring an effect; after_commit checks it again.
            after_commit(Committing(target), on_stored)


def _compose(
    before: tuple[tuple[Table, tuple[str, ...]], ...],
    guard: tuple[HotStatement, tuple[str, ...]] | None,
    after: tuple[tuple[Table, tuple[str, ...]], ...],
) -> Select[Any]:
    """One SELECT whose data-modifying CTEs are the batch's writes. The guard's binds keep their names; an
    insert's are prefixed with its place (b0_, a1_, ...), so that two rows of one table do not collide."""
    ctes = []
    for n, (table, columns) in enumerate(before):
        row = {column: bindparam(f"b{n}_{column}", type_=table.c[column].type) for column in columns}
        ctes.append(insert(table).values(row).cte(f"b{n}"))
    if guard is None:
        return select(literal(1).label("matched")).add_cte(*ctes)
    update = guard[0].statement
    assert isinstance(update, Update)
    guarded = update.returning(literal(1).label("one")).cte("guard")
    for n, (table, columns) in enumerate(after):
        values = select(*(bindparam(f"a{n}_{column}", type_=table.c[column].type) for column in columns))
        ctes.append(insert(table).from_select(list(columns), values.select_from(guarded)).cte(f"a{n}"))
    return select(func.count().label("matched")).select_from(guarded).add_cte(*ctes)


def _table_of(statement: HotStatement) -> Table:
    core = statement.statement
    if not isinstance(core, Insert) or not isinstance(core.table, Table):
        raise TypeError("a write batch takes the HotStatement of an insert(table)")
    # A HotStatement is never a write to a configuration table (it refuses them), so neither is a batch's.
    return core.table


@cache
def _python_defaults(table: Table) -> frozenset[str]:
    """Columns SQLAlchemy would fill in Python: an INSERT ... SELECT in a CTE would leave them NULL instead."""
    return frozenset(column.key for column in table.c if column.default is not None)
