"""Data keys are replaced by volume as well as age (keys/seal_counts.py, keys/data_key_rollover.py): each process
counts its seals, the counts reach `data_keys.sealed_count`, and the active key is replaced at the limit (a small one
here, not 2^30) by the process whose write reaches it or by the job, never by a process without the current master
key. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.exc import OperationalError

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.keys import sealing
from entryway.keys.data_key_rollover import DATA_KEY_MAX_AGE, roll_data_key
from entryway.keys.master_rotation import rotate_master
from entryway.keys.seal_counts import FAILED_WRITE_PAUSE, SealCounts
from entryway.keys.sealing import MasterKeys, Sealer, data_key_of
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.tables import data_keys
from tests.conftest import make_settings

OLD, NEW = os.urandom(32), os.urandom(32)
QUIET = 1_000_000  # a write threshold no test reaches: counts are written only when the test says so


def _sealer(engine: Engine, master: MasterKeys | bytes = OLD, *, max_seals: int = 2**30, after: int = QUIET) -> Sealer:
    return Sealer(master, engine, max_seals=max_seals, counts=SealCounts(flush_after=after, flush_seconds=3600))


def _runtime(engine: Engine, tmp: Path, clock: FrozenClock, current: bytes, *previous: bytes) -> Runtime:
    settings = make_settings(str(engine.url), tmp)
    settings = type(settings)(**{**settings.__dict__, "master_key": current, "previous_master_keys": previous})
    rt = Runtime.build(settings, clock=clock, engine=engine)
    rt.sealer.counts = SealCounts(flush_after=QUIET, flush_seconds=3600)
    return rt


def _seal(sealer: Sealer, n: int) -> str:
    key_ids = {data_key_of(sealer.seal(b"value", "test:volume")) for _ in range(n)}
    assert len(key_ids) == 1
    return str(key_ids.pop())


def _rows(engine: Engine) -> dict[str, tuple[str, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(data_keys.c.id, data_keys.c.status, data_keys.c.sealed_count))
        return {r.id: (r.status, r.sealed_count) for r in rows}


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


# --- counting ---------------------------------------------------------------------------------------------


def test_the_seals_reach_the_row_when_written(engine: Engine) -> None:
    sealer = _sealer(engine)
    key = _seal(sealer, 7)
    assert _rows(engine)[key] == ("active", 0)  # nothing written on the sealing path
    assert sealer.flush_seal_counts()
    assert _rows(engine)[key] == ("active", 7)
    _seal(sealer, 2)
    assert sealer.flush_seal_counts()
    assert _rows(engine)[key] == ("active", 9)


def test_a_seal_that_brings_the_count_to_the_threshold_writes_it_in_the_background(engine: Engine) -> None:
    sealer = _sealer(engine, after=5)
    key = _seal(sealer, 4)
    time.sleep(0.1)
    assert _rows(engine)[key] == ("active", 0)
    _seal(sealer, 1)
    _eventually(lambda: _rows(engine)[key] == ("active", 5))


def test_a_seal_long_after_the_last_write_writes_too() -> None:
    now = [0.0]
    counts = SealCounts(flush_after=1000, flush_seconds=60, monotonic=lambda: now[0])
    assert not counts.add("dk_a")
    now[0] = 61.0
    assert counts.add("dk_a")  # due by time: the caller starts a write
    assert not counts.add("dk_a")  # one write at a time
    assert counts.pending("dk_a") == 3


def test_counts_from_two_instances_add_up(engine: Engine) -> None:
    first, second = _sealer(engine), _sealer(engine)
    key = _seal(first, 3)
    assert _seal(second, 4) == key
    assert first.flush_seal_counts() and second.flush_seal_counts()
    assert _rows(engine)[key] == ("active", 7)


def test_seals_from_many_threads_are_all_counted(engine: Engine) -> None:
    sealer = _sealer(engine)
    key = _seal(sealer, 1)
    threads = [threading.Thread(target=_seal, args=(sealer, 200)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sealer.flush_seal_counts()
    assert _rows(engine)[key] == ("active", 1 + 8 * 200)


def test_counts_a_failed_write_could_not_add_are_kept_for_the_next(engine: Engine, tmp_path: Path) -> None:
    sealer = _sealer(engine)
    key = _seal(sealer, 3)
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    try:
        sealer._engine = unreachable  # the database goes away
        assert not sealer.flush_seal_counts()
    finally:
        unreachable.dispose()
        sealer._engine = engine
    assert sealer.counts.pending(key) == 3
    assert sealer.flush_seal_counts()
    assert _rows(engine)[key] == ("active", 3)


def test_after_a_failed_write_seals_start_none_for_a_while(tmp_path: Path) -> None:
    now = [0.0]
    counts = SealCounts(flush_after=2, flush_seconds=60, monotonic=lambda: now[0])
    counts.add("dk_a")
    assert counts.add("dk_a")
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    try:
        with pytest.raises(OperationalError):
            counts.write(unreachable)
    finally:
        unreachable.dispose()
    assert not counts.add("dk_a")  # due by count, but the database just refused
    now[0] = FAILED_WRITE_PAUSE + 0.1
    assert counts.add("dk_a")


def test_a_seal_whose_write_cannot_start_still_seals_and_a_later_one_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No thread to be had (the process's thread limit): the login's seal must not fail, nor counting stop for good.
    class NoThread(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    now = [0.0]
    sealer = Sealer(OLD, engine, counts=SealCounts(flush_after=2, flush_seconds=3600, monotonic=lambda: now[0]))
    monkeypatch.setattr(sealing.threading, "Thread", NoThread)
    key = _seal(sealer, 2)  # the second is due to start a write
    assert sealer.counts.pending(key) == 2
    monkeypatch.undo()
    now[0] = FAILED_WRITE_PAUSE + 0.1
    _seal(sealer, 1)
    _eventually(lambda: _rows(engine)[key] == ("active", 3))


def test_a_graceful_shutdown_writes_the_counts(engine: Engine, tmp_path: Path) -> None:
    rt = _runtime(engine, tmp_path, FrozenClock(datetime.now(UTC)), OLD)
    with TestClient(create_app(rt)):
        key = _seal(rt.sealer, 6)
        assert _rows(engine)[key] == ("active", 0)
    assert _rows(engine)[key] == ("active", 6)


# --- replacing the key ----------------------------------------------------------------------------------------


def test_the_write_that_reaches_the_limit_replaces_the_key(engine: Engine) -> None:
    sealer = _sealer(engine, max_seals=5)
    first = _seal(sealer, 4)
    assert sealer.flush_seal_counts()
    assert _rows(engine) == {first: ("active", 4)}  # below the limit
    sealed = sealer.seal(b"fifth", "test:volume")
    assert sealer.flush_seal_counts()
    rows = _rows(engine)
    assert rows[first] == ("retired", 5)
    second = _seal(sealer, 1)
    assert second != first and rows[second] == ("active", 0)  # new values go under the new key at once
    assert sealer.open(sealed, "test:volume") == b"fifth"  # the old key still opens what it sealed


def test_the_job_replaces_a_key_at_the_limit_long_before_its_age(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    rt = _runtime(engine, tmp_path, clock, OLD)
    rt.sealer.max_seals = 5
    other_instance = _sealer(engine)  # its write does not replace the key: the job has to
    first = _seal(other_instance, 4)
    assert other_instance.flush_seal_counts()
    clock.advance(days=1)
    assert roll_data_key(rt) == 0  # below both limits
    assert _rows(engine) == {first: ("active", 4)}

    _seal(other_instance, 1)
    assert other_instance.flush_seal_counts()
    assert roll_data_key(rt) == 1  # 5 values after a day
    rows = _rows(engine)
    assert rows[first] == ("retired", 5) and [s for s, _ in rows.values()].count("active") == 1
    assert roll_data_key(rt) == 0  # the new key is young and has sealed nothing


def test_the_job_writes_its_own_process_s_counts_before_it_looks(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    rt = _runtime(engine, tmp_path, clock, OLD)
    first = _seal(rt.sealer, 5)
    rt.sealer.max_seals = 5
    roll_data_key(rt)
    assert _rows(engine)[first] == ("retired", 5)


def test_a_key_made_before_seals_were_counted_is_replaced_at_the_first_check(engine: Engine, tmp_path: Path) -> None:
    rt = _runtime(engine, tmp_path, FrozenClock(datetime.now(UTC)), OLD)
    first = _seal(rt.sealer, 1)
    assert rt.sealer.flush_seal_counts()
    with engine.begin() as conn:
        conn.execute(update(data_keys).values(sealed_count=None))  # as migration 0018 leaves an existing key
    assert roll_data_key(rt) == 1
    assert _rows(engine)[first] == ("retired", None)


def test_a_write_to_a_key_made_before_seals_were_counted_replaces_it(engine: Engine) -> None:
    sealer = _sealer(engine)
    first = _seal(sealer, 1)
    with engine.begin() as conn:
        conn.execute(update(data_keys).values(sealed_count=None))
    assert sealer.flush_seal_counts()
    assert _rows(engine)[first] == ("retired", None)  # unknown stays unknown: NULL + 1 is NULL


def test_the_age_limit_still_holds_for_a_quiet_key(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    rt = _runtime(engine, tmp_path, clock, OLD)
    first = _seal(rt.sealer, 1)
    clock.advance(seconds=DATA_KEY_MAX_AGE.total_seconds() + 1)
    assert roll_data_key(rt) == 1
    assert _rows(engine)[first][0] == "retired"


def test_one_of_two_processes_replacing_the_same_key_does(engine: Engine) -> None:
    first_process, second_process = _sealer(engine), _sealer(engine)
    full = _seal(first_process, 1)
    assert first_process.roll_over(full) is not None
    assert second_process.roll_over(full) is None  # it was no longer active
    assert [s for s, _ in _rows(engine).values()].count("active") == 1


def test_a_process_without_the_current_master_key_replaces_nothing(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    newer = _runtime(engine, tmp_path, clock, NEW, OLD)
    older = _runtime(engine, tmp_path, clock, OLD)
    _seal(older.sealer, 1)
    rotate_master(newer, lambda *_: None)  # the data keys are now the new master's
    full = _seal(newer.sealer, 3)
    assert newer.sealer.flush_seal_counts()
    older.sealer.max_seals = newer.sealer.max_seals = 3
    assert _rows(engine)[full] == ("active", 3)
    assert roll_data_key(older) == 0  # the key it would make would be wrapped by the master key on its way out
    assert older.sealer.roll_over(full) is None
    assert _rows(engine)[full][0] == "active"
    assert roll_data_key(newer) == 1
    assert _rows(engine)[full][0] == "retired"


def test_a_full_key_no_process_may_replace_is_an_error_in_the_log(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # ENTRYWAY_MASTER_KEY was changed everywhere and `rotate-master` not run: the active key is wrapped by the
    # previous master key, so no process's roll_over may replace it, and nothing else would say so.
    clock = FrozenClock(datetime.now(UTC))
    older = _runtime(engine, tmp_path, clock, OLD)
    full = _seal(older.sealer, 1)
    switched = _runtime(engine, tmp_path, clock, NEW, OLD)
    switched.sealer.max_seals = 3
    assert _seal(switched.sealer, 3) == full
    with caplog.at_level("ERROR", logger="entryway.keys"):
        assert switched.sealer.flush_seal_counts()
    assert _rows(engine)[full] == ("active", 3)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and full in errors[0] and "rotate-master" in errors[0], errors


def test_rotate_master_counts_its_seals_against_the_fresh_key(engine: Engine, tmp_path: Path) -> None:
    clock = FrozenClock(datetime.now(UTC))
    older = _runtime(engine, tmp_path, clock, OLD)
    seed_development(older, "http://localhost:8000", "http://localhost:3000/callback")
    assert older.sealer.flush_seal_counts()
    newer = _runtime(engine, tmp_path, clock, NEW, OLD)
    report = rotate_master(newer, lambda *_: None)
    resealed = sum(report.resealed.values())
    assert resealed > 0
    assert _rows(engine)[report.data_key] == ("active", resealed)
