"""The scheduler: a job runs once per interval across all instances, never on two at once, survives an
instance that died holding it, records failures, and reports its state in /metrics."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.jobs.scheduler import Job, Outcome, Scheduler
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.tables import scheduled_jobs
from tests.conftest import make_settings

HOUR = 3600.0


@pytest.fixture
def other(rt: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    """A second instance: its own engine (own connections) on the same database, the same clock."""
    url = rt.engine.url.render_as_string(hide_password=False)
    second = Runtime.build(make_settings(url, tmp_path), clock=rt.clock)
    yield second
    second.engine.dispose()


def frozen(rt: Runtime) -> FrozenClock:
    assert isinstance(rt.clock, FrozenClock)
    return rt.clock


def row(rt: Runtime, name: str) -> dict[str, object]:
    with rt.engine.connect() as conn:
        return dict(conn.execute(select(scheduled_jobs).where(scheduled_jobs.c.name == name)).one()._mapping)


class Counting:
    """A job body that counts its runs (and can be told to fail)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail: Exception | None = None

    def __call__(self, rt: Runtime) -> int:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return 2


def test_a_job_waits_for_its_first_delay_then_runs_once_per_interval(rt: Runtime) -> None:
    body = Counting()
    job = Job("count", body, interval=HOUR, jitter=0.0, first_delay=60)
    scheduler = Scheduler(rt, [job], rng=random.Random(1))
    assert scheduler.run_pending() == []  # a fresh installation waits first_delay
    frozen(rt).advance(seconds=61)
    [outcome] = scheduler.run_pending()
    assert outcome.ok and outcome.handled == 2 and body.calls == 1
    assert scheduler.run_pending() == []  # not again within the interval
    state = row(rt, "count")
    assert state["run_count"] == 1 and state["lease_owner"] is None and state["last_success_time"] is not None
    frozen(rt).advance(seconds=HOUR - 10)
    assert scheduler.run_pending() == [] and body.calls == 1
    frozen(rt).advance(seconds=11)
    assert [o.job for o in scheduler.run_pending()] == ["count"] and body.calls == 2


def test_a_restarted_instance_does_not_run_a_job_again(rt: Runtime, other: Runtime) -> None:
    body = Counting()
    job = Job("count", body, interval=HOUR, first_delay=0)
    assert len(Scheduler(rt, [job]).run_pending()) == 1
    # Another process (or this one restarted) sees from the row that the job ran moments ago.
    assert Scheduler(other, [job]).run_pending() == [] and body.calls == 1


def test_jitter_spreads_the_next_run(rt: Runtime) -> None:
    job = Job("count", Counting(), interval=HOUR, jitter=0.5, first_delay=0)
    Scheduler(rt, [job], rng=random.Random(7)).run_pending()
    state = row(rt, "count")
    gap = (state["next_run_time"] - state["last_finish_time"]).total_seconds()  # type: ignore[operator]
    assert HOUR < gap <= HOUR * 1.5


def test_a_failed_run_is_recorded_and_retried_next_interval(rt: Runtime) -> None:
    body = Counting()
    body.fail = RuntimeError("receiver unreachable")
    scheduler = Scheduler(rt, [Job("flaky", body, interval=HOUR, jitter=0.0, first_delay=0)])
    [outcome] = scheduler.run_pending()
    assert not outcome.ok and outcome.error == "RuntimeError: receiver unreachable"
    state = row(rt, "flaky")
    assert state["failure_count"] == 1 and state["consecutive_failures"] == 1 and state["last_success_time"] is None
    assert state["lease_owner"] is None  # released: the next interval may run it
    frozen(rt).advance(seconds=HOUR + 1)
    scheduler.run_pending()
    assert row(rt, "flaky")["consecutive_failures"] == 2
    body.fail = None
    frozen(rt).advance(seconds=HOUR + 1)
    scheduler.run_pending()
    state = row(rt, "flaky")
    assert state["failure_count"] == 2 and state["consecutive_failures"] == 0 and state["last_error"] is None
    assert state["run_count"] == 3


def test_two_instances_never_run_a_job_at_the_same_time(rt: Runtime, other: Runtime) -> None:
    started, release = threading.Event(), threading.Event()
    running = 0
    most = 0
    calls = 0
    lock = threading.Lock()

    def slow(_: Runtime) -> int:
        nonlocal running, most, calls
        with lock:
            running += 1
            calls += 1
            most = max(most, running)
        started.set()
        release.wait(30)
        with lock:
            running -= 1
        return 0

    job = Job("slow", slow, interval=1.0, jitter=0.0, first_delay=0, lease_seconds=600)
    first, second = Scheduler(rt, [job]), Scheduler(other, [job])
    holder = threading.Thread(target=first.run_pending)
    holder.start()
    assert started.wait(30)
    frozen(rt).advance(seconds=5)  # due again by its interval, but still held by the first instance
    assert second.run_pending() == []
    release.set()
    holder.join(30)
    assert calls == 1 and most == 1
    # Both claim at the same moment, many times over: each time exactly one of them runs it.
    release.set()
    for _ in range(5):
        frozen(rt).advance(seconds=5)
        first._look_at.clear()  # make both ask the database, as two processes that just started would
        second._look_at.clear()
        barrier = threading.Barrier(2)
        ran: list[int] = []

        def claim(scheduler: Scheduler) -> None:
            barrier.wait()
            ran.append(len(scheduler.run_pending()))

        threads = [threading.Thread(target=claim, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(ran) == [0, 1]
    assert most == 1


def test_a_dead_instances_lease_expires_and_another_takes_the_job_over(rt: Runtime, other: Runtime) -> None:
    body = Counting()
    job = Job("count", body, interval=HOUR, first_delay=0, lease_seconds=120)
    dead = Scheduler(rt, [job])
    token = dead._claim(job, rt.clock.now())  # claimed, then the process died before running it
    assert token is not None
    survivor = Scheduler(other, [job])
    assert survivor.run_pending() == [] and body.calls == 0
    frozen(rt).advance(seconds=121)
    assert len(survivor.run_pending()) == 1 and body.calls == 1
    # The dead instance's late outcome does not overwrite the row its successor now owns.
    dead._finish(job, token, Outcome("count", ok=False, error="late"))
    assert row(rt, "count")["last_error"] is None


def test_the_background_thread_runs_due_jobs_and_stops(rt: Runtime) -> None:
    ran = threading.Event()
    job = Job("quick", lambda _: ran.set() or 0, interval=HOUR, first_delay=0)
    scheduler = Scheduler(rt, [job], tick=0.05)
    scheduler.start()
    try:
        assert ran.wait(20)
        assert scheduler.running
    finally:
        scheduler.stop()
    assert not scheduler.running


def test_metrics_report_each_jobs_last_run_and_failures(rt: Runtime) -> None:
    seed = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    body = Counting()
    body.fail = ValueError("bad")
    Scheduler(rt, [Job("flaky", body, interval=HOUR, first_delay=0)]).run_pending()
    text = TestClient(create_app(rt), base_url=seed.environment.url).get("/metrics").text
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if "flaky" in line}
    assert lines['entryway_scheduled_job_failures{job="flaky"}'] == 1
    assert lines['entryway_scheduled_job_consecutive_failures{job="flaky"}'] == 1
    assert lines['entryway_scheduled_job_last_success_timestamp_seconds{job="flaky"}'] == 0
    assert lines['entryway_scheduled_job_last_run_timestamp_seconds{job="flaky"}'] == pytest.approx(
        rt.clock.now().timestamp(), abs=5
    )
    assert lines['entryway_scheduled_job_runs_total{job="flaky",outcome="failure"}'] == 1


def test_the_app_starts_the_scheduler_when_told_to(rt: Runtime) -> None:
    seed = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    rt.settings = dataclasses.replace(rt.settings, scheduler=True)
    with TestClient(create_app(rt), base_url=seed.environment.url):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with rt.engine.connect() as conn:
                names = set(conn.scalars(select(scheduled_jobs.c.name)))
            if "login_state_purge" in names:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the app's scheduler never recorded its jobs")
