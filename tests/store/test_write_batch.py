"""Write batches (store/write_batch.py): a login step's writes in one statement on PostgreSQL, one by one in a
transaction on SQLite, with the same outcome on both.

Every test runs on both backends. Rows a batch stores are compared, as the driver returns them, with rows
SQLAlchemy stores; the guard decides the writes given after it; a unique violation stores nothing of the batch.
On PostgreSQL the round trips are counted from libpq's own protocol trace: a batch is three (one when it commits
with its statement), a whole login nine. That a consuming step's batch commits only after its statement answered
is tested end to end in tests/operations/test_faults.py (an instance killed mid-ACS: the login completes on
another; it fails with the ACS's batch sent as one autocommit statement).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Boolean, Column, Engine, MetaData, String, Table, event, insert, select
from sqlalchemy.exc import IntegrityError

from entryway.connectors.saml import replay
from entryway.oidc_provider import codes
from entryway.runtime import Runtime
from entryway.services import auth_log, logins
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import auth_codes, auth_events, auth_requests, connections, saml_replay
from entryway.store.write_batch import WriteBatch
from tests.connectors.support import CALLBACK, SamlWorld, make_world, query
from tests.store.test_hot_statements import INSERTS, NOW, _auth_event, _code, _replay, _request


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")


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


def _pending_request(rt: Runtime, env_id: str, key: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), _request(key, env_id))


def _login_batch(env_id: str, request_id: str, n: str) -> WriteBatch:
    """As the ACS sends it: the replay record, the guard on the pending request, the code and its log row."""
    batch = WriteBatch()
    batch.insert(replay._REMEMBER, _replay("assertion-" + n, env_id))
    batch.guard(logins._COMPLETE_REQUEST, {"request_id": request_id})
    batch.insert(logins._INSERT_CODE, {**_code("code-" + n, env_id), "auth_request_id": request_id})
    batch.insert(auth_log._INSERT_EVENT, _auth_event("event-" + n, env_id))
    return batch


def test_the_writes_after_the_guard_are_stored_only_when_it_matched(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    _pending_request(rt, env_id, "req_1")
    assert _login_batch(env_id, "req_1", "1").execute(rt.engine) is True
    # The request is no longer pending: the second batch's guard matches nothing.
    assert _login_batch(env_id, "req_1", "2").execute(rt.engine) is False
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
    _pending_request(rt, env_id, "req_2")
    with rt.engine.begin() as conn:
        replay.remember_assertion(conn, "assertion-3", "con_1", NOW)
    with pytest.raises(IntegrityError):
        _login_batch(env_id, "req_2", "3").execute(rt.engine)
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "pending"
        assert conn.execute(select(auth_codes)).first() is None
        assert conn.execute(select(auth_events.c.id).where(auth_events.c.id == "event-3")).first() is None
    # The request is still pending, so a batch with a new assertion completes it.
    assert _login_batch(env_id, "req_2", "4").execute(rt.engine) is True


def test_a_batch_sent_inside_the_callers_transaction_rolls_back_with_it(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    _pending_request(rt, env_id, "req_3")
    with pytest.raises(RuntimeError, match="the caller fails"), rt.engine.begin() as conn:
        assert _login_batch(env_id, "req_3", "5").execute_in(conn) is True
        raise RuntimeError("the caller fails after the batch")
    with rt.engine.connect() as conn:
        assert conn.execute(select(auth_requests.c.status)).scalar_one() == "pending"
        assert conn.execute(select(saml_replay)).first() is None
        assert conn.execute(select(auth_codes)).first() is None


def test_a_batch_without_a_guard_stores_everything_and_an_empty_batch_sends_nothing(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    before = _count(rt.engine, auth_events)
    with _round_trips(rt.engine) as trips:
        assert WriteBatch().execute(rt.engine) is True
    assert trips() == 0
    batch = WriteBatch()
    batch.insert(logins._INSERT_REQUEST, _request("req_4", env_id))
    batch.insert(auth_log._INSERT_EVENT, _auth_event("event-6", env_id))
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


# --- round trips on PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def _round_trips(engine: Engine) -> Iterator[Callable[[], int]]:
    """Count the statements' round trips on every pooled PostgreSQL connection checked out in the block: each ends
    with the server's ReadyForQuery in libpq's protocol trace (0 on SQLite, which has none). The count is read
    once the block has ended."""
    counted: list[int] = []
    if engine.dialect.name != "postgresql":
        yield lambda: 0
        return
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "trace"), "w+") as out:
        traced: list[Any] = []

        def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            dbapi_conn.pgconn.trace(out.fileno())
            dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)  # lines start with F or B
            traced.append(dbapi_conn)

        def checkin(dbapi_conn: Any, _record: Any) -> None:
            if dbapi_conn in traced and not dbapi_conn.closed:
                dbapi_conn.pgconn.untrace()  # flushes what libpq wrote

        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)
        try:
            yield lambda: counted[0]
        finally:
            event.remove(engine, "checkout", checkout)
            event.remove(engine, "checkin", checkin)
            out.seek(0)
            counted.append(sum(1 for line in out if line.startswith("B") and "\tReadyForQuery" in line))


def test_on_postgresql_a_batch_is_three_round_trips_or_one_when_it_commits_with_the_statement(
    rt: Runtime, seed: DevSeed
) -> None:
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in process: there are no round trips to count")
    _pending_request(rt, seed.environment.id, "req_5")
    with _round_trips(rt.engine) as trips:
        assert _login_batch(seed.environment.id, "req_5", "7").execute(rt.engine) is True
    # BEGIN, the one statement, COMMIT; one by one it was six: BEGIN, four statements, COMMIT.
    assert trips() == 3
    _pending_request(rt, seed.environment.id, "req_6")
    with _round_trips(rt.engine) as trips:
        assert _login_batch(seed.environment.id, "req_6", "8").execute(rt.engine, commit="with_statement") is True
    assert trips() == 1


@pytest.fixture
def world(rt: Runtime) -> Iterator[SamlWorld]:
    yield from make_world(rt)


def _whole_login(world: SamlWorld, n: int) -> None:
    """authorize -> the IdP simulator -> the ACS -> the token endpoint, as the benchmark's logins go."""
    verifier = "v" * 40 + str(n).zfill(8)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    email = f"user{n}@example.com"
    started = world.http.get(
        "/oauth/authorize",
        params={
            "client_id": world.seed.client_id, "redirect_uri": CALLBACK, "response_type": "code",
            "scope": "openid email profile", "state": f"s{n}", "code_challenge": challenge,
            "code_challenge_method": "S256", "login_hint": email,
        },
    )  # fmt: skip
    assert started.status_code == 302, started.text[:300]
    sso = query(started.headers["location"])
    connection_id = started.headers["location"].split("/sso/v1/simulator/")[1].split("/")[0]
    made = world.http.post(
        f"/sso/v1/simulator/{connection_id}/login",
        data={"SAMLRequest": sso["SAMLRequest"], "RelayState": sso["RelayState"], "email": email, "outcome": "login"},
        headers={"Accept": "application/json"},
    ).json()
    answer = world.http.post(
        made["acs_url"], data={"SAMLResponse": made["SAMLResponse"], "RelayState": made["RelayState"]}
    )
    assert answer.status_code == 302, answer.text[:300]
    tokens = world.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code", "code": query(answer.headers["location"])["code"],
            "redirect_uri": CALLBACK, "client_id": world.seed.client_id, "client_secret": world.seed.plain_secret,
            "code_verifier": verifier,
        },
    )  # fmt: skip
    assert tokens.status_code == 200 and "id_token" in tokens.json(), tokens.text[:300]


def test_on_postgresql_a_whole_saml_login_costs_nine_round_trips(world: SamlWorld) -> None:
    if world.rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in process: there are no round trips to count")
    _whole_login(world, 1)  # fills the configuration cache: the route, the client, the keys
    with _round_trips(world.rt.engine) as trips:
        _whole_login(world, 2)
    # authorize: its write batch; the ACS: the request read, its write batch; the token endpoint: the code read,
    # its write batch. authorize commits with its statement (1); the ACS and the token endpoint each read and send
    # their batch in BEGIN ... COMMIT (4 each). With BEGIN and COMMIT around every statement one by one it was 18.
    assert trips() == 9


def test_a_code_redeemed_meanwhile_makes_the_exchange_a_second_use(rt: Runtime, seed: DevSeed) -> None:
    """The token endpoint reads the code, then sends the redemption as its batch's guard: a code redeemed between
    the two is caught by the guard, as it was by the conditional update inside the old transaction."""
    env_id = seed.environment.id
    profile = {"subject": "u-9", "email": "user9@example.com"}
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_codes), {**_code("hash_9", env_id), "profile": profile})
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
