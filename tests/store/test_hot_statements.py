"""Hot statements (store/hot_statements.py) store and read exactly what Connection.execute does.

Each login-path statement writes one row through SQLAlchemy and one through the hot path with the same values;
the two rows must be stored identically (compared as the driver returns them, before any type processing) and
read back identically both ways. Then what the hot path adds: rowcounts of conditional updates, errors wrapped as
SQLAlchemy's (the replay cache relies on IntegrityError), and the statements it refuses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    event,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from entryway.connectors.saml import replay
from entryway.events import outbox
from entryway.oidc_provider import codes
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.bootstrap import DevSeed
from entryway.store import hot_statements
from entryway.store.hot_statements import HotStatement, dollar_form
from entryway.store.tables import (
    auth_codes,
    auth_requests,
    connections,
    events,
    saml_replay,
    webhook_deliveries,
    webhook_endpoints,
)
from tests.store.login_rows import INSERTS, NOW, code_row, event_row, request_row


@pytest.mark.parametrize("hot, table, make", INSERTS, ids=[t.name for _, t, _ in INSERTS])
def test_a_row_written_by_a_hot_statement_is_stored_and_read_as_sqlalchemy_writes_it(
    rt: Runtime, seed: DevSeed, hot: HotStatement, table: Table, make: Any
) -> None:
    _check_written_both_ways(
        rt, hot, table, {k: make(k, seed.environment.id) for k in ("by-sqlalchemy", "by-hot-path")}
    )


def test_a_webhook_delivery_written_by_the_hot_statement_is_stored_as_sqlalchemy_writes_it(
    rt: Runtime, seed: DevSeed
) -> None:
    env = seed.environment
    with rt.engine.begin() as conn:
        # The row only (its secret is never read here): the delivery's foreign key needs an endpoint.
        conn.execute(
            insert(webhook_endpoints),
            dict(
                id="wh_1", environment_id=env.id, url="https://hooks.example.com/in", event_types=["sso.login_failed"],
                secret=b"sealed", status="ENABLED", create_time=NOW, update_time=NOW,
            ),
        )  # fmt: skip
        for key in ("evt_a", "evt_b"):
            conn.execute(insert(events), event_row(key, env.id))
    given = {
        k: dict(
            id=k, environment_id=env.id, endpoint_id="wh_1", event_id=event_id, status="PENDING",
            attempt_count=0, next_attempt_time=NOW, create_time=NOW, update_time=NOW + timedelta(microseconds=1),
        )
        for k, event_id in (("by-sqlalchemy", "evt_a"), ("by-hot-path", "evt_b"))
    }  # fmt: skip
    _check_written_both_ways(rt, outbox._INSERT_DELIVERY, webhook_deliveries, given)


def _check_written_both_ways(rt: Runtime, hot: HotStatement, table: Table, given: dict[str, dict[str, Any]]) -> None:
    key = table.primary_key.columns.values()[0].name
    # The columns given the same value both ways (the key and any unique column differ).
    same = [c.name for c in table.c if given["by-sqlalchemy"].get(c.name) == given["by-hot-path"].get(c.name)]
    assert len(same) >= len(table.c) - 2
    with rt.engine.begin() as conn:
        conn.execute(insert(table), given["by-sqlalchemy"])
        assert hot.run(conn, given["by-hot-path"]) == 1
    with rt.engine.connect() as conn:
        # As stored: the driver's own values, no type processing (a datetime's text on SQLite, JSON as loaded).
        raw = {
            row[0]: row[1:]
            for row in conn.exec_driver_sql(
                f"SELECT {key}, {', '.join(same)} FROM {table.name} WHERE {key} IN ('by-sqlalchemy', 'by-hot-path')"
            )
        }
        processed = {row._mapping[key]: row._mapping for row in conn.execute(select(table))}  # the seed's rows too
    assert set(raw) == {"by-sqlalchemy", "by-hot-path"}
    assert raw["by-hot-path"] == raw["by-sqlalchemy"]
    # Read back through SQLAlchemy's types: what was given, both ways (a column not given reads None).
    for k in ("by-sqlalchemy", "by-hot-path"):
        assert {c: v for c, v in processed[k].items() if c in given[k] or v is not None} == given[k]


def test_a_hot_select_reads_what_sqlalchemy_reads(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_a", env_id))
        conn.execute(insert(auth_codes), {**code_row("hash_a", env_id), "used_time": NOW, "issued_jti": "jti_a"})
    with rt.engine.begin() as conn:
        by_hot = logins._BY_UPSTREAM_REQUEST.first(conn, {"upstream_request_id": "up-req_a"})
        code_by_hot = codes._BY_HASH.first(conn, {"hash": "hash_a"})
        assert logins._BY_UPSTREAM_REQUEST.first(conn, {"upstream_request_id": "up-nothing"}) is None
    with rt.engine.connect() as conn:
        by_sqlalchemy = conn.execute(select(auth_requests).where(auth_requests.c.id == "req_a")).one()
        code_by_sqlalchemy = conn.execute(select(auth_codes).where(auth_codes.c.code_hash == "hash_a")).one()
    assert by_hot == dict(by_sqlalchemy._mapping) == request_row("req_a", env_id)
    assert code_by_hot == dict(code_by_sqlalchemy._mapping)
    assert code_by_hot is not None and code_by_hot["used_time"] == NOW and code_by_hot["profile"]["raw"]["t"] is True


def test_outside_a_transaction_a_hot_select_runs_through_sqlalchemy(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_b", seed.environment.id))
    with rt.engine.connect() as conn:
        assert not conn.in_transaction()
        found = logins._BY_UPSTREAM_REQUEST.first(conn, {"upstream_request_id": "up-req_b"})
    assert found == request_row("req_b", seed.environment.id)


def test_conditional_updates_count_the_rows_they_changed(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_c", env_id))
        conn.execute(insert(auth_codes), code_row("hash_c", env_id))
    with rt.engine.begin() as conn:
        assert logins._COMPLETE_REQUEST.run(conn, {"request_id": "req_c"}) == 1
        assert logins._COMPLETE_REQUEST.run(conn, {"request_id": "req_c"}) == 0  # completed already
        assert codes._REDEEM.run(conn, {"hash": "hash_c", "now": NOW, "jti": "jti_c"}) == 1
        assert codes._REDEEM.run(conn, {"hash": "hash_c", "now": NOW, "jti": "jti_other"}) == 0  # redeemed already
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "completed"
        used, jti = conn.execute(select(auth_codes.c.used_time, auth_codes.c.issued_jti)).one()
    assert (used, jti) == (NOW, "jti_c")


def test_a_repeated_key_raises_sqlalchemys_integrity_error_and_the_step_rolls_back(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        replay.remember_assertion(conn, "_assertion", "con_1", NOW)
    with pytest.raises(IntegrityError), rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_d", seed.environment.id))
        replay.remember_assertion(conn, "_assertion", "con_1", NOW)
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests)).first() is None
        assert conn.execute(select(saml_replay.c.assertion_id)).scalars().all() == ["_assertion"]


def test_a_hot_select_of_every_row_reads_what_sqlalchemy_reads(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        for key in ("hash_e", "hash_f"):
            conn.execute(insert(auth_codes), code_row(key, env_id))
    query = select(auth_codes.c.code_hash, auth_codes.c.profile, auth_codes.c.expire_time).where(
        auth_codes.c.environment_id == bindparam("env_id")
    )
    hot = HotStatement(query.order_by(auth_codes.c.code_hash))
    with rt.engine.connect() as conn:
        by_sqlalchemy = [tuple(row) for row in conn.execute(query.order_by(auth_codes.c.code_hash), {"env_id": env_id})]
    assert [row[0] for row in by_sqlalchemy] == ["hash_e", "hash_f"]
    assert by_sqlalchemy[0][1]["raw"]["t"] is True and by_sqlalchemy[0][2] == NOW + timedelta(minutes=1)
    with rt.engine.begin() as conn:
        assert hot.all(conn, {"env_id": env_id}) == by_sqlalchemy
        assert hot.all(conn, {"env_id": "env_nothing"}) == []
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert hot.all(conn, {"env_id": env_id}) == by_sqlalchemy
    with rt.engine.connect() as conn:
        assert hot.all(conn, {"env_id": env_id}) == by_sqlalchemy


def test_on_an_autocommit_connection_a_hot_select_runs_on_the_cursor_and_leaves_no_transaction_open(
    rt: Runtime, seed: DevSeed
) -> None:
    """The configuration cache reads on AUTOCOMMIT connections (store/db.py read_connection): there the driver opens no
    transaction, so the hot path is safe. On a connection with neither, SQLAlchemy runs it (and begins)."""
    through_sqlalchemy: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        through_sqlalchemy.append(statement)

    hot = HotStatement(select(auth_codes.c.code_hash).where(auth_codes.c.environment_id == bindparam("env_id")))
    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert hot.all(conn, {"env_id": seed.environment.id}) == []
            assert hot.first(conn, {"env_id": seed.environment.id}) is None
            assert through_sqlalchemy == []
            raw = conn.connection.dbapi_connection
            if rt.engine.dialect.name == "postgresql":
                assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            else:
                assert not raw.in_transaction
        with rt.engine.connect() as conn:
            assert hot.all(conn, {"env_id": seed.environment.id}) == []
            assert len(through_sqlalchemy) == 1
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)


def test_configuration_tables_and_statements_needing_more_than_plain_binds_are_refused() -> None:
    # A write to a configuration table must go through Connection.execute: its engine event clears the cache.
    with pytest.raises(ValueError, match="configuration table"):
        HotStatement(update(connections).values(enabled=True))
    with pytest.raises(ValueError, match="configuration table"):
        HotStatement(insert(connections))
    with pytest.raises(ValueError, match="configuration table"):
        HotStatement(delete(connections))
    HotStatement(select(connections))  # a read changes nothing the cache holds
    defaulted = Table("t", MetaData(), Column("a", String, primary_key=True), Column("b", Boolean, default=False))
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(ValueError, match="defaults"):
            HotStatement(insert(defaulted))._plan(dialect, {"a": "x"})
        with pytest.raises(ValueError, match="plain bind"):
            HotStatement(select(defaulted).where(defaulted.c.a.in_(["x", "y"])))._plan(dialect, {})


def test_psycopgs_placeholders_are_numbered_as_postgresql_writes_them() -> None:
    sql = "SELECT %(a)s, %(b)s, %(a)s, 7 %% 2 WHERE x LIKE 'p%%' AND y = '%%(a)s'"
    assert dollar_form(sql) == (b"SELECT $1, $2, $1, 7 % 2 WHERE x LIKE 'p%' AND y = '%(a)s'", ("a", "b"))


def test_a_repeated_bind_and_a_literal_percent_reach_the_database_as_written(rt: Runtime, seed: DevSeed) -> None:
    # On PostgreSQL the statement goes in the native form ($1 twice, '%' unescaped); on SQLite as compiled.
    hot = HotStatement(
        select(auth_requests.c.id, literal_column("'100%'").label("share")).where(
            or_(auth_requests.c.id == bindparam("key"), auth_requests.c.upstream_request_id == bindparam("key")),
            auth_requests.c.redirect_uri.like(literal_column("'%://%'")),
        )
    )
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_p", seed.environment.id))
        assert hot.first(conn, {"key": "req_p"}) == {"id": "req_p", "share": "100%"}
        assert hot.first(conn, {"key": "up-req_p"}) == {"id": "req_p", "share": "100%"}
        assert hot.first(conn, {"key": "nothing"}) is None


def test_a_statement_whose_placeholders_would_not_match_its_binds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the numbering ever to miss a bind, its value would go in another's place: the plan is refused instead.
    statement = HotStatement(select(auth_requests.c.id).where(auth_requests.c.id == bindparam("key")))
    statement._plan(postgresql.psycopg.dialect(), {"key": "x"})
    monkeypatch.setattr(hot_statements, "dollar_form", lambda sql: (sql.encode(), ("another",)))
    with pytest.raises(ValueError, match="placeholders do not match"):
        HotStatement(statement.statement)._plan(postgresql.psycopg.dialect(), {"key": "x"})
