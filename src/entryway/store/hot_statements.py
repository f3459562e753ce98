"""The login path's statements, run with the SQL and the type handling SQLAlchemy compiles for them but without its
per-execution machinery.

A login runs about a dozen small statements. Through `Connection.execute` each cost ~0.1 ms of SQLAlchemy's own
Python (the compiled-cache lookup, an execution context, `construct_params`, a CursorResult, event dispatch), more
than the sqlite3 driver spent running it (bench/README.md, "Where a login's CPU goes"). A HotStatement compiles its
Core statement once per dialect and set of parameter names, exactly as `Connection.execute` would, and then runs
that SQL on the transaction's own DBAPI cursor:

- the same SQL text and the same bind processors (UTCDateTime, JSON, Boolean stored exactly as SQLAlchemy stores
  them) and result processors (tests/store/test_hot_statements.py writes and reads rows both ways);
- inside the transaction SQLAlchemy began (`engine.begin()`): BEGIN, COMMIT and ROLLBACK stay SQLAlchemy's, with
  their events. On an AUTOCOMMIT connection (store/db.py `read_connection`: the configuration cache's reads, the
  token endpoint's read of its code, authorize's write batch) there is no transaction for the cursor to open
  behind SQLAlchemy's back, so it runs there too. On any other connection with no transaction begun it simply
  calls `Connection.execute`;
- a driver error goes through SQLAlchemy's own handler: it is raised as sqlalchemy's IntegrityError (the replay
  cache relies on it) or DBAPIError, and a dropped connection invalidates the pool as on any other statement.

What it skips on purpose is the before/after execute events: the only engine listener that reads them, the
configuration cache's, watches writes to configuration tables, and a HotStatement refuses to be built on a write
to one of those (a SELECT of them is fine: it changes nothing the cache holds).
A statement needing more than plain binds (Python-side column defaults, expanding IN lists, escaped bind names,
callables) is refused at compile time too: it belongs on `Connection.execute`.

On PostgreSQL the compiled SQL is also rewritten once, from psycopg's `%(name)s` placeholders to PostgreSQL's own
`$1, $2, ...`, and sent through a psycopg RawCursor with the values in that order. Otherwise psycopg parses each
statement's placeholders on every execution unless it has at most 50 parameters and 4 kB, and a login's ACS write
batch has 54: parsing it cost about 7% of the ACS step's CPU (bench/README.md, "Session 13").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement

from entryway.store.config_cache import WATCHED_TABLES

_Processor = Callable[[Any], Any]


class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = (
        "cursor_class",
        "fixed",
        "native_sql",
        "order",
        "positional",
        "processors",
        "result",
        "sequence",
        "sql",
    )

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a hot statement cannot rely on Python-side column defaults: give every value")
        if compiled.literal_execute_params or compiled.post_compile_params or compiled.escaped_bind_names:
            raise ValueError("a hot statement takes plain bind parameters only")
        if compiled.schema_translate_map:
            raise ValueError("a hot statement cannot use a schema translate map")
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        self.sequence: Callable[[list[Any]], Any] = dialect.execute_sequence_format
        names = dict(compiled.bind_names)
        if any(bind.callable is not None for bind in names):
            raise ValueError("a hot statement cannot have a callable bind parameter")
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else tuple(names.values())
        processors = compiled._bind_processors
        self.processors: dict[str, _Processor] = {
            name: processor  # type: ignore[misc]
            for name, processor in processors.items()
            if processor is not None and name in self.order
        }
        # Values written into the statement itself (`status == "pending"`), already through their processors.
        self.fixed: dict[str, Any] = {}
        for bind, name in names.items():
            if not bind.required:
                value = bind.effective_value
                self.fixed[name] = self.processors[name](value) if name in self.processors else value
        self.result: list[tuple[str, Any]] = [(key, type_) for key, _name, _objs, type_ in compiled._result_columns]
        # psycopg's native form (the module's docstring); psycopg is imported only where it is the driver.
        self.native_sql: bytes | None = None
        self.cursor_class: Any = None
        if dialect.driver == "psycopg" and not self.positional:
            from psycopg import RawCursor

            native_sql, order = dollar_form(self.sql)
            if set(order) != set(self.order):
                raise ValueError("a hot statement's placeholders do not match its bind parameters")
            self.native_sql, self.order, self.cursor_class = native_sql, order, RawCursor

    def parameters(self, given: Mapping[str, Any]) -> Any:
        """The DBAPI parameters, as Connection.execute would send them: each value through its bind processor (in
        psycopg's native form, a list in the order of `$1, $2, ...`)."""
        processors, fixed = self.processors, self.fixed
        values = []
        for name in self.order:
            if name in given:
                value = given[name]
                processor = processors.get(name)
                values.append(processor(value) if processor is not None else value)
            elif name in fixed:
                values.append(fixed[name])
            else:
                raise KeyError(f"hot statement parameter {name!r} not given")
        if self.native_sql is not None:
            return values
        if self.positional:
            return self.sequence(values)
        return dict(zip(self.order, values, strict=True))


class HotStatement:
    """A Core statement built once at import, compiled once per dialect, run on the transaction's cursor."""

    def __init__(self, statement: Executable) -> None:
        assert isinstance(statement, ClauseElement)
        table = getattr(statement, "table", None) if isinstance(statement, UpdateBase) else None
        if table is not None and getattr(table, "name", None) in WATCHED_TABLES:
            raise ValueError(f"{table.name} is a configuration table: its writes must go through Connection.execute")
        self.statement = statement
        self._plans: dict[tuple[Dialect, tuple[str, ...]], _Plan] = {}
        # Per dialect and result description: the row processors of a SELECT.
        self._row_processors: dict[tuple[_Plan, tuple[Any, ...]], list[_Processor | None]] = {}

    def _plan(self, dialect: Dialect, given: Mapping[str, Any]) -> _Plan:
        key = (dialect, tuple(given))
        plan = self._plans.get(key)
        if plan is None:
            # As Connection.execute compiles it: the parameter names decide an INSERT's or UPDATE's columns.
            assert isinstance(self.statement, ClauseElement)
            compiled = self.statement.compile(dialect=dialect, column_keys=sorted(given))
            assert isinstance(compiled, SQLCompiler)
            plan = self._plans[key] = _Plan(compiled, dialect)
        return plan

    def _run(self, conn: Connection, given: Mapping[str, Any]) -> tuple[_Plan, Any]:
        plan = self._plan(conn.dialect, given)
        parameters = plan.parameters(given)
        if plan.native_sql is not None:
            cursor = plan.cursor_class(conn.connection.dbapi_connection)
            sql: str | bytes = plan.native_sql
        else:
            cursor = conn.connection.cursor()
            sql = plan.sql
        try:
            cursor.execute(sql, parameters)
        except Exception as exc:
            conn._handle_dbapi_exception(exc, plan.sql, parameters, cursor, None)
        return plan, cursor

    def run(self, conn: Connection, given: Mapping[str, Any]) -> int:
        """Execute an INSERT, UPDATE or DELETE; the number of rows it matched."""
        if not _direct(conn):
            return int(conn.execute(self.statement, dict(given)).rowcount)
        _plan, cursor = self._run(conn, given)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """Execute a SELECT; its first row (as column key -> value, through the types' processors) or None."""
        if not _direct(conn):
            row = conn.execute(self.statement, dict(given)).first()
            return dict(row._mapping) if row is not None else None
        plan, raws, processors = self._select(conn, given, many=False)
        if not raws:
            return None
        return {
            key: processor(value) if processor is not None else value
            for (key, _type), processor, value in zip(plan.result, processors, raws[0], strict=True)
        }

    def all(self, conn: Connection, given: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute a SELECT; every row, as a tuple in the statement's column order, through the types' processors."""
        if not _direct(conn):
            return [tuple(row) for row in conn.execute(self.statement, dict(given))]
        _plan, raws, processors = self._select(conn, given, many=True)
        return [tuple(p(v) if p is not None else v for p, v in zip(processors, raw, strict=True)) for raw in raws]

    def _select(
        self, conn: Connection, given: Mapping[str, Any], *, many: bool
    ) -> tuple[_Plan, list[Any], list[_Processor | None]]:
        """Run a SELECT on the cursor: its raw rows (only the first unless `many`) and their result processors."""
        plan, cursor = self._run(conn, given)
        try:
            try:
                raws = cursor.fetchall() if many else cursor.fetchmany(1)
            except Exception as exc:
                conn._handle_dbapi_exception(exc, plan.sql, None, cursor, None)
            processors = self._processors(conn.dialect, plan, cursor.description) if raws else []
        finally:
            cursor.close()
        return plan, raws, processors

    def _processors(self, dialect: Dialect, plan: _Plan, description: Any) -> list[_Processor | None]:
        codes = tuple(column[1] for column in description)
        key = (plan, codes)
        found = self._row_processors.get(key)
        if found is None:
            # As CursorResult does: each result column's type, given the driver's type code for it.
            pairs = zip(plan.result, codes, strict=True)
            found = [type_._cached_result_processor(dialect, code) for (_key, type_), code in pairs]
            self._row_processors[key] = found
        return found


_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def dollar_form(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """`sql` with psycopg's `%(name)s` placeholders numbered `$1, $2, ...` in order of first use (a name used twice
    keeps its number) and `%%` back to `%`; and the names in that order. SQLAlchemy writes every bind as
    `%(name)s` and every literal `%` as `%%`, and a HotStatement takes no escaped bind names, so each name is a
    run of word characters."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    return _PYFORMAT.sub(number, sql).encode(), tuple(names)


def _direct(conn: Connection) -> bool:
    """Whether the statement may run on the DBAPI cursor: inside SQLAlchemy's transaction, or on a connection in
    autocommit, where the driver opens no transaction of its own either (the execution option, not
    `get_isolation_level()`, which asks the database)."""
    return conn.in_transaction() or conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
