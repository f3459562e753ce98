"""A fresh data key every 30 days (keys/data_key_rollover.py): new values go under it, old ones still open, and
only a process holding the current master key makes one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from entryway.clock import FrozenClock
from entryway.jobs.catalog import all_jobs
from entryway.keys.data_key_rollover import DATA_KEY_MAX_AGE, roll_data_key
from entryway.keys.master_rotation import rotate_master
from entryway.keys.sealing import data_key_of
from entryway.runtime import Runtime
from entryway.store.tables import data_keys
from tests.conftest import make_settings

OLD, NEW = os.urandom(32), os.urandom(32)


def _runtime(engine: Engine, tmp: Path, clock: FrozenClock, current: bytes, *previous: bytes) -> Runtime:
    settings = make_settings(str(engine.url), tmp)
    settings = type(settings)(**{**settings.__dict__, "master_key": current, "previous_master_keys": previous})
    return Runtime.build(settings, clock=clock, engine=engine)


def _seal(rt: Runtime, value: bytes) -> bytes:
    with rt.engine.begin() as conn:
        return rt.sealer.seal(value, "test:rollover", conn)


def _keys(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.id: r.status for r in conn.execute(select(data_keys.c.id, data_keys.c.status))}


def test_a_data_key_older_than_its_age_is_replaced_and_still_opens_what_it_sealed(
    engine: Engine, tmp_path: Path
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    rt = _runtime(engine, tmp_path, clock, OLD)
    assert roll_data_key(rt) == 0  # no key yet: the first value sealed makes it
    first = _seal(rt, b"before")
    first_key = data_key_of(first)

    clock.advance(seconds=DATA_KEY_MAX_AGE.total_seconds() - 60)
    assert roll_data_key(rt) == 0  # not old enough
    assert _keys(engine) == {first_key: "active"}

    clock.advance(seconds=120)
    assert roll_data_key(rt) == 1
    keys = _keys(engine)
    assert keys[first_key] == "retired" and list(keys.values()).count("active") == 1
    second = _seal(rt, b"after")
    assert data_key_of(second) != first_key  # new values go under the new key at once on this process
    assert rt.sealer.open(first, "test:rollover") == b"before"
    assert rt.sealer.open(second, "test:rollover") == b"after"
    assert roll_data_key(rt) == 0  # the new key is young


def test_a_process_without_the_current_master_key_makes_none(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    newer = _runtime(engine, tmp_path, clock, NEW, OLD)
    older = _runtime(engine, tmp_path, clock, OLD)
    _seal(older, b"value")
    rotate_master(newer, lambda *_: None)  # the data keys are now the new master's
    clock.advance(days=DATA_KEY_MAX_AGE.days + 1)
    assert roll_data_key(older) == 0  # it would wrap a key under the master key on its way out
    assert roll_data_key(newer) == 1


def test_the_rollover_runs_as_a_periodic_job(engine: Engine, tmp_path: Path) -> None:
    rt = _runtime(engine, tmp_path, FrozenClock(datetime.now(UTC)), OLD)
    jobs = {job.name: job for job in all_jobs(rt)}
    assert jobs["data_key_rollover"].interval == timedelta(days=1).total_seconds()
