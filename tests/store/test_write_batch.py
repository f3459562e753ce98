"""Write batches (store/write_batch.py): a login step's writes in one statement on PostgreSQL, one by one in a
transaction on SQLite, with the same outcome on both.

Every test runs on both backends. Rows a batch stores are compared, as the driver returns them, with rows
SQLAlchemy stores; the guard decides the writes given after it; a unique violation stores nothing of the batch.
What a row makes happen once stored (`on_stored`: the auth log's count of the login step) runs after the commit,
and only for the rows stored.
The round trips on PostgreSQL are counted in tests/store/test_round_trips.py. That a consuming step's batch
commits only after its statement answered is tested end to end in tests/operations/test_faults.py (an instance
killed mid-ACS: the login completes on another; it fails with the ACS's batch sent as one autocommit statement).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, Engine, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from entryway.connectors.saml import replay
from entryway.oidc_provider import codes
from entryway.runtime import Runtime
from entryway.services import auth_log, logins
from entryway.services.bootstrap import DevSeed
from entryway.store.after_commit import transaction
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import auth_codes, auth_events, auth_requests, connections, saml_replay
from entryway.store.write_batch import Commit, WriteBatch
from tests.store.login_rows import INSERTS, NOW, auth_event_row, code_row, login_batch, pending_request, request_row
from tests.support.login_counts import counted, logged


def _stored(engine: Engine, table: Table, keys: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    """Rows as the driver returns them (no type processing), by primary key, without the key itself."""
    key = table.primary_key.columns.values()[0].name
    columns = [c.name for c in table.c if c.name != key]
    marks = ", ".join(f"'{k}'" for k in keys)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {key}, {', '.join(columns)} FROM {table.name} WHERE {key} IN ({marks})")
        return {row[0]: tuple(row[1:]) for row in rows}


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(table)).all())


def test_a_batch_stores_every_login_row_as_sqlalchemy_stores_it(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    batch = WriteBatch()
    for hot, table, make in INSERTS:
        with rt.engine.begin() as conn:
            conn.execute(insert(table), make("by-sqlalchemy", env_id))
        batch.insert(hot, make("by-batch", env_id))
    assert batch.execute(rt.engine) is True
    for _hot, table, _make in INSERTS:
        stored = _stored(rt.engine, table, ("by-sqlalchemy", "by-batch"))
        assert set(stored) == {"by-sqlalchemy", "by-batch"}, table.name
        key_like = {"upstream_request_id", "session_id"}  # unique columns made from the key
        differing = [
            c.name for c, a, b in zip(
                [c for c in table.c if c.name != table.primary_key.columns.values()[0].name],
                stored["by-sqlalchemy"], stored["by-batch"], strict=True,
            ) if a != b
        ]  # fmt: skip
        assert set(differing) <= key_like, (table.name, differing)


def test_the_writes_after_the_guard_are_stored_only_when_it_matched(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    pending_request(rt, env_id, "req_1")
    stored: list[str] = []
    assert login_batch(env_id, "req_1", "1", stored).execute(rt.engine) is True
    assert stored == ["assertion-1", "code-1", "event-1"]
    # The request is no longer pending: the second batch's guard matches nothing.
    assert login_batch(env_id, "req_1", "2", stored).execute(rt.engine) is False
    assert stored == ["assertion-1", "code-1", "event-1", "assertion-2"]
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "completed"
        assert conn.execute(select(auth_codes.c.code_hash)).scalars().all() == ["code-1"]
        assert conn.execute(select(auth_events.c.id).where(auth_events.c.id.like("event-%"))).scalars().all() == [
            "event-1"
        ]
        # What was given before the guard is stored either way: that assertion may never be presented again.
        assert sorted(conn.execute(select(saml_replay.c.assertion_id)).scalars()) == ["assertion-1", "assertion-2"]


def test_a_unique_violation_fails_the_whole_batch_and_stores_nothing_of_it(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    pending_request(rt, env_id, "req_2")
    with rt.engine.begin() as conn:
        replay.remember_assertion(conn, "assertion-3", "con_1", NOW)
    stored: list[str] = []
    with pytest.raises(IntegrityError):
        login_batch(env_id, "req_2", "3", stored).execute(rt.engine)
    assert stored == []
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "pending"
        assert conn.execute(select(auth_codes)).first() is None
        assert conn.execute(select(auth_events.c.id).where(auth_events.c.id == "event-3")).first() is None
    # The request is still pending, so a batch with a new assertion completes it.
    assert login_batch(env_id, "req_2", "4").execute(rt.engine) is True


def test_a_batch_sent_inside_the_callers_transaction_rolls_back_with_it(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    pending_request(rt, env_id, "req_3")
    stored: list[str] = []
    batch = login_batch(env_id, "req_3", "5", stored)
    auth_log.record(rt, batch, environment_id=env_id, status=auth_log.PENDING, step="callback")
    with pytest.raises(RuntimeError, match="the caller fails"), transaction(rt.engine) as conn:
        assert batch.execute_in(conn) is True
        raise RuntimeError("the caller fails after the batch")
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "pending"
        assert conn.execute(select(saml_replay)).first() is None
        assert conn.execute(select(auth_codes)).first() is None
    # Nothing of the batch was stored, so nothing of it counted: not the login step either.
    assert stored == [] and not counted(rt) and not logged(rt, env_id)


def test_a_batch_sent_inside_the_callers_transaction_counts_once_that_commits(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    pending_request(rt, env_id, "req_5")
    stored: list[str] = []
    batch = login_batch(env_id, "req_5", "7", stored)
    auth_log.record(rt, batch, environment_id=env_id, status=auth_log.PENDING, step="callback")
    with transaction(rt.engine) as conn:
        assert batch.execute_in(conn) is True
        assert stored == [] and not counted(rt)  # stored, not yet committed
    assert stored == ["assertion-7", "code-7", "event-7"]
    assert counted(rt) == {("PENDING", "", "callback"): 1}  # login_batch's own log row (event-7) counts nothing


@pytest.mark.parametrize("commit", ["after_answer", "with_statement"])
def test_a_sent_batch_counts_what_it_stored(rt: Runtime, seed: DevSeed, commit: Commit) -> None:
    # On PostgreSQL "with_statement" is one autocommit statement: its rows count once it answered.
    env_id = seed.environment.id
    stored: list[str] = []
    batch = WriteBatch()
    batch.insert(logins._INSERT_REQUEST, request_row("req_6", env_id), partial(stored.append, "req_6"))
    auth_log.record(rt, batch, environment_id=env_id, status=auth_log.INITIATED, step="authorize")
    assert batch.execute(rt.engine, commit=commit) is True
    assert stored == ["req_6"]
    assert counted(rt) == logged(rt, env_id) == {("INITIATED", "", "authorize"): 1}


def test_a_batch_without_a_guard_stores_everything(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    before = _count(rt.engine, auth_events)
    batch = WriteBatch()
    batch.insert(logins._INSERT_REQUEST, request_row("req_4", env_id))
    batch.insert(auth_log._INSERT_EVENT, auth_event_row("event-6", env_id))
    assert batch.execute(rt.engine) is True
    assert _count(rt.engine, auth_requests) == 1 and _count(rt.engine, auth_events) == before + 1


def test_a_statement_that_is_no_insert_an_incomplete_row_and_a_second_guard_are_refused() -> None:
    batch = WriteBatch()
    with pytest.raises(TypeError, match="insert"):
        batch.insert(HotStatement(select(connections)), {})
    defaulted = Table("t", MetaData(), Column("a", String, primary_key=True), Column("b", Boolean, default=False))
    with pytest.raises(ValueError, match="Python-side default"):
        batch.insert(HotStatement(insert(defaulted)), {"a": "x"})
    batch.insert(HotStatement(insert(defaulted)), {"a": "x", "b": True})
    with pytest.raises(TypeError, match="UPDATE"):
        batch.guard(logins._BY_UPSTREAM_REQUEST, {})
    batch.guard(codes._REDEEM, {"hash": "h", "now": NOW, "jti": "j"})
    with pytest.raises(ValueError, match="one guard"):
        batch.guard(logins._COMPLETE_REQUEST, {"request_id": "r"})


def test_a_code_redeemed_meanwhile_makes_the_exchange_a_second_use(rt: Runtime, seed: DevSeed) -> None:
    """The token endpoint reads the code, then sends the redemption as its batch's guard: a code redeemed between
    the two is caught by the guard, as it was by the conditional update inside the old transaction."""
    env_id = seed.environment.id
    profile = {"subject": "u-9", "email": "user9@example.com"}
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_codes), {**code_row("hash_9", env_id), "profile": profile})
    with rt.engine.connect() as conn:
        grant = codes.find_code(conn, env_id, "unused")  # an unknown code: None
        assert grant is None
        row = conn.execute(select(auth_codes).where(auth_codes.c.code_hash == "hash_9")).one()
    grant = codes._grant(dict(row._mapping))
    first, second = WriteBatch(), WriteBatch()
    codes.mark_redeemed(first, grant, "jti_1", NOW)
    codes.mark_redeemed(second, grant, "jti_2", NOW + timedelta(seconds=1))
    codes.record_exchanged(rt, second, grant)
    assert first.execute(rt.engine) is True
    assert second.execute(rt.engine) is False
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_codes.c.issued_jti)).scalar_one() == "jti_1"
        assert conn.execute(select(auth_events).where(auth_events.c.status == "SUCCESS")).first() is None
    assert not counted(rt)  # the SUCCESS given after the guard was not stored: not counted either
