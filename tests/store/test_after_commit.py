"""store/after_commit.py: what a transaction makes happen outside the database (the auth log's count of a login
step) happens once its COMMIT returned, and never when the block raised or the COMMIT failed. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.services import auth_log, logins
from entryway.services.bootstrap import DevSeed
from entryway.store import after_commit
from entryway.store.after_commit import transaction
from entryway.store.tables import auth_events
from entryway.store.write_batch import Commit, WriteBatch
from tests.store.login_rows import request_row
from tests.support.login_counts import counted, logged


def _record(rt: Runtime, conn: Any, env_id: str) -> str:
    return auth_log.record(rt, conn, environment_id=env_id, status=auth_log.FAILED, step="token", error_code="x")


def _visible(rt: Runtime, event_id: str) -> bool:
    """Whether another connection sees the row: it is committed."""
    with rt.engine.connect() as other:
        return other.execute(select(auth_events.c.id).where(auth_events.c.id == event_id)).first() is not None


def test_a_row_written_on_the_connection_counts_once_its_commit_returned(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    seen: list[bool] = []
    with transaction(rt.engine) as conn:
        event_id = _record(rt, conn, env_id)
        after_commit.after_commit(conn, lambda: seen.append(_visible(rt, event_id)))
        assert not counted(rt)
    assert seen == [True]  # SQLAlchemy's `commit` event, fired before the COMMIT is sent, would see False
    assert counted(rt) == logged(rt, env_id) == {("FAILED", "x", "token"): 1}


def test_a_transaction_that_rolls_back_counts_nothing(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with pytest.raises(RuntimeError, match="the step fails"), transaction(rt.engine) as conn:
        _record(rt, conn, env_id)
        raise RuntimeError("the step fails after its log row")
    assert not counted(rt) and not logged(rt, env_id)
    assert not after_commit._pending  # no entry outlives its block


def test_a_commit_that_fails_counts_nothing(rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch) -> None:
    # As when the connection drops while the COMMIT is on its way: the block ran to its end, nothing was stored.
    def dropped(_dbapi_connection: Any) -> None:
        raise ConnectionError("the connection dropped during COMMIT")

    env_id = seed.environment.id
    monkeypatch.setattr(rt.engine.dialect, "do_commit", dropped)
    with pytest.raises(ConnectionError), transaction(rt.engine) as conn:
        _record(rt, conn, env_id)
    monkeypatch.undo()
    assert not counted(rt) and not logged(rt, env_id)
    assert not after_commit._pending


def test_a_connection_transaction_did_not_open_is_refused_in_tests(rt: Runtime, seed: DevSeed) -> None:
    # Its effects would never run: a bug to find here, not a login silently left uncounted.
    assert after_commit.strict  # tests/conftest.py
    with pytest.raises(RuntimeError, match="transaction"), rt.engine.begin() as conn:
        _record(rt, conn, seed.environment.id)
    assert not logged(rt, seed.environment.id)


def test_a_server_counts_such_a_step_at_once_and_warns_once(
    rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A metric must never fail a login: outside the tests the step is stored, and counted before its commit.
    monkeypatch.setattr(after_commit, "strict", False)
    monkeypatch.setattr(after_commit, "_warned", False)
    env_id = seed.environment.id
    with caplog.at_level("WARNING", logger="entryway.store"):
        for _ in range(2):
            with rt.engine.begin() as conn:
                _record(rt, conn, env_id)
    assert counted(rt) == logged(rt, env_id) == {("FAILED", "x", "token"): 2}
    assert [r.getMessage() for r in caplog.records if r.name == "entryway.store"] == [
        "a transaction not opened by store.after_commit.transaction: its effects run before its commit"
    ]


@pytest.mark.parametrize("commit", ["after_answer", "with_statement"])
def test_an_effect_that_fails_fails_neither_its_committed_step_nor_the_effects_after_it(
    rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, commit: Commit
) -> None:
    # The step's writes are committed (a code consumed): a 500 now would undo nothing and lose the app its tokens.
    def broken() -> None:
        raise ValueError("the metric failed")

    monkeypatch.setattr(after_commit, "strict", False)
    env_id = seed.environment.id
    batch = WriteBatch()
    batch.insert(logins._INSERT_REQUEST, request_row("req_1", env_id), broken)
    auth_log.record(rt, batch, environment_id=env_id, status=auth_log.INITIATED, step="authorize")
    with caplog.at_level("ERROR", logger="entryway.store"):
        assert batch.execute(rt.engine, commit=commit) is True
    assert counted(rt) == logged(rt, env_id) == {("INITIATED", "", "authorize"): 1}
    assert [r.getMessage() for r in caplog.records if r.name == "entryway.store"] == [
        "an effect of a committed transaction failed (the transaction stands)"
    ]


def test_an_effect_that_fails_fails_its_test(rt: Runtime) -> None:
    assert after_commit.strict  # tests/conftest.py: a broken effect is a bug to find here

    def broken() -> None:
        raise ValueError("the metric failed")

    with pytest.raises(ValueError, match="the metric failed"), transaction(rt.engine) as conn:
        after_commit.after_commit(conn, broken)
