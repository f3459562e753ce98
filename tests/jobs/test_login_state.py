"""The scheduled purge of expired login state: expired rows go (after their grace, where one is kept), live
ones stay, and a run works in bounded batches."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Table, func, insert, select

from entryway.jobs import login_state
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.types import UTCDateTime

_serial = count()


def _row(table: Table, env_id: str, now: datetime, expire_time: datetime) -> dict[str, Any]:
    """Every required column filled with a plausible value (unique strings, so keys never clash)."""
    values: dict[str, Any] = {}
    for column in table.c:
        if column.nullable or (column.autoincrement is True and isinstance(column.type, Integer)):
            continue
        if column.name == "environment_id":
            values[column.name] = env_id
        elif isinstance(column.type, UTCDateTime):
            values[column.name] = now
        elif isinstance(column.type, JSON):
            values[column.name] = {}
        elif isinstance(column.type, LargeBinary):
            values[column.name] = b"sealed"
        elif isinstance(column.type, Boolean):
            values[column.name] = False
        elif isinstance(column.type, Integer):
            values[column.name] = 0
        elif isinstance(column.type, String):
            values[column.name] = f"{column.name[:8]}-{next(_serial)}"
    values["expire_time"] = expire_time
    return values


def _count(rt: Runtime, table: Table) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_expired_rows_go_live_ones_and_those_in_their_grace_stay(rt: Runtime) -> None:
    env_id = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment.id
    now = rt.clock.now()
    targets = login_state.targets(rt)
    expected = {target.table.name: _count(rt, target.table) for target in targets}
    with rt.engine.begin() as conn:
        for target in targets:
            rows = [
                _row(target.table, env_id, now, now - target.grace - timedelta(seconds=5)),  # expired, past grace
                _row(target.table, env_id, now, now + timedelta(minutes=5)),  # alive
            ]
            if target.grace:
                rows.append(_row(target.table, env_id, now, now - target.grace + timedelta(minutes=1)))  # in grace
            conn.execute(insert(target.table), rows)
            expected[target.table.name] += len(rows) - 1
    assert login_state.purge_expired_login_state(rt) == len(targets)
    for target in targets:
        assert _count(rt, target.table) == expected[target.table.name], target.table.name
    assert login_state.purge_expired_login_state(rt) == 0


def test_a_code_is_kept_as_long_as_the_tokens_it_issued_can_live(rt: Runtime) -> None:
    [codes] = [t for t in login_state.targets(rt) if t.table.name == "auth_codes"]
    assert codes.grace >= timedelta(seconds=rt.settings.access_token_ttl_seconds)


def test_a_run_works_in_bounded_batches(rt: Runtime) -> None:
    env_id = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment.id
    now = rt.clock.now()
    [replay] = [t for t in login_state.targets(rt) if t.table.name == "saml_replay"]
    with rt.engine.begin() as conn:
        conn.execute(
            insert(replay.table), [_row(replay.table, env_id, now, now - timedelta(hours=1)) for _ in range(7)]
        )
    assert login_state.purge_table(rt, replay, batch=3, max_batches=2) == 6  # stops after two batches of three
    assert _count(rt, replay.table) == 1
    assert login_state.purge_table(rt, replay, batch=3, max_batches=2) == 1  # the rest goes next run
    assert _count(rt, replay.table) == 0
