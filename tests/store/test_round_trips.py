"""Round trips to PostgreSQL: a write batch's (store/write_batch.py) and a whole SAML login's.

They are counted in libpq's own protocol trace: each ends with the server's ReadyForQuery. A write batch is three
(BEGIN, the statement, COMMIT), or one when it commits with its statement; a warm login is nine. With every
statement sent on its own, as before the batches, these counts were 6 and 18: the tests fail if that comes back.

PostgreSQL only: SQLite runs in the process, so it has no round trips to count. What a batch stores is tested
on both backends in tests/store/test_write_batch.py. Here too: the driver's own work on the ACS's batch, which it
would parse again on every login if it were sent in psycopg's `%(name)s` form (store/hot_statements.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import _queries as psycopg_queries
from sqlalchemy import Engine, event, insert, select

from entryway.connectors.saml import login_sessions
from entryway.events import outbox
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import auth_codes, auth_requests
from entryway.store.write_batch import WriteBatch
from tests.connectors.support import CALLBACK, SamlWorld, make_world, query
from tests.store.login_rows import event_row, login_batch, pending_request, request_row, session_row


@pytest.fixture
def backend() -> str:
    """This module's tests on PostgreSQL only (the conftest's `backend` runs each test on both)."""
    return "postgresql"


def test_an_empty_batch_sends_nothing(rt: Runtime) -> None:
    with _round_trips(rt.engine) as trips:
        assert WriteBatch().execute(rt.engine) is True
    assert trips() == 0


@contextmanager
def _round_trips(engine: Engine) -> Iterator[Callable[[], int]]:
    """Count the statements' round trips on every pooled connection checked out in the block: each ends with the
    server's ReadyForQuery in libpq's protocol trace. The count is read once the block has ended."""
    counted: list[int] = []
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
    pending_request(rt, seed.environment.id, "req_5")
    with _round_trips(rt.engine) as trips:
        assert login_batch(seed.environment.id, "req_5", "7").execute(rt.engine) is True
    # BEGIN, the one statement, COMMIT; one by one it was six: BEGIN, four statements, COMMIT.
    assert trips() == 3
    pending_request(rt, seed.environment.id, "req_6")
    with _round_trips(rt.engine) as trips:
        assert login_batch(seed.environment.id, "req_6", "8").execute(rt.engine, commit="with_statement") is True
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
    _whole_login(world, 1)  # fills the configuration cache: the route, the client, the keys
    with _round_trips(world.rt.engine) as trips:
        _whole_login(world, 2)
    # authorize: its write batch; the ACS: the request read, its write batch; the token endpoint: the code read,
    # its write batch. authorize commits with its statement (1); the ACS and the token endpoint each read and send
    # their batch in BEGIN ... COMMIT (4 each). With BEGIN and COMMIT around every statement one by one it was 18.
    assert trips() == 9


def test_the_acs_batch_of_more_than_50_parameters_is_sent_without_psycopg_parsing_it(
    rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg keeps its parse of a `%(name)s` statement only up to 50 parameters: past that it parses it each time.
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row("req_n", env_id))
    parsed: list[bytes] = []
    real_parse = psycopg_queries._query2pg_nocache

    def parse(query: bytes, encoding: str) -> Any:
        parsed.append(query)
        return real_parse(query, encoding)

    monkeypatch.setattr(psycopg_queries, "_query2pg_nocache", parse)
    batch = login_batch(env_id, "req_n", "n")  # as the ACS sends it: with the webhook event and the SAML session
    batch.insert(outbox._INSERT_EVENT, event_row("evt-n", env_id))
    batch.insert(login_sessions._INSERT_SESSION, session_row("ses-n", env_id))
    assert batch.execute(rt.engine)
    with rt.engine.connect() as conn:
        stored = conn.execute(select(auth_codes.c.auth_request_id).where(auth_codes.c.code_hash == "code-n")).all()
    assert stored == [("req_n",)]
    assert parsed == []
