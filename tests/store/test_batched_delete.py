"""Batched deletes (the purges' one way to delete): every due row goes, oldest first, rows not due stay, and each
batch is committed on its own, so another connection sees the purge progress while it runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Delete, Engine, event, func, insert, select

from entryway.runtime import Runtime
from entryway.store.batched_delete import delete_in_batches
from entryway.store.db import make_engine
from entryway.store.tables import saml_replay

T = saml_replay


@pytest.fixture
def other(rt: Runtime) -> Iterator[Engine]:
    """Another process's view of the same database: its own engine, so its own connections."""
    engine = make_engine(rt.engine.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


def _fill(rt: Runtime, due: int, not_due: int) -> None:
    now = rt.clock.now()
    rows = [dict(assertion_id=f"old-{n}", connection_id="conn_1", expire_time=now - timedelta(hours=n + 1))
            for n in range(due)]  # fmt: skip
    rows += [dict(assertion_id=f"live-{n}", connection_id="conn_1", expire_time=now + timedelta(hours=1))
             for n in range(not_due)]  # fmt: skip
    with rt.engine.begin() as conn:
        conn.execute(insert(T), rows)


def _due_left(engine: Engine, rt: Runtime) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(T.c.expire_time < rt.clock.now())).scalar_one())


def _ids(rt: Runtime) -> set[str]:
    with rt.engine.connect() as conn:
        return set(conn.scalars(select(T.c.assertion_id)))


def test_every_due_row_goes_in_batches_each_committed_on_its_own(rt: Runtime, other: Engine) -> None:
    _fill(rt, due=8, not_due=2)
    seen_by_other: list[int] = []

    def look(conn: Any, statement: Any, *_: Any) -> None:
        if isinstance(statement, Delete):  # this batch deleted but not committed yet: what do others see?
            seen_by_other.append(_due_left(other, rt))

    event.listen(rt.engine, "after_execute", look)
    try:
        removed = delete_in_batches(rt.engine, T, T.c.expire_time < rt.clock.now(), batch=3, order_by=T.c.expire_time)
    finally:
        event.remove(rt.engine, "after_execute", look)
    assert removed == 8
    # Before each batch commits, another connection already sees the earlier batches gone: 8, then 5, then 2.
    # (In one transaction it would see all 8 until the very end.)
    assert seen_by_other == [8, 5, 2]
    assert _ids(rt) == {"live-0", "live-1"}


def test_a_run_stops_after_max_batches_having_taken_the_oldest(rt: Runtime) -> None:
    _fill(rt, due=7, not_due=1)
    due = T.c.expire_time < rt.clock.now()
    assert delete_in_batches(rt.engine, T, due, batch=3, order_by=T.c.expire_time, max_batches=2) == 6
    assert _ids(rt) == {"old-0", "live-0"}  # old-0 expired last, so it is the one left for the next run
    assert delete_in_batches(rt.engine, T, due, batch=3, order_by=T.c.expire_time, max_batches=2) == 1
    assert delete_in_batches(rt.engine, T, due, batch=3) == 0
    assert _ids(rt) == {"live-0"}


def test_a_batch_exactly_full_is_followed_by_one_that_finds_nothing(rt: Runtime) -> None:
    _fill(rt, due=6, not_due=0)
    assert delete_in_batches(rt.engine, T, T.c.expire_time < rt.clock.now(), batch=3) == 6
    assert _ids(rt) == set()
