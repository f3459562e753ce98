"""What the background loops log while PostgreSQL is down: one warning when it stops answering, retries backing
off to every 30 s, a reminder about once a minute saying how long it has been down, one line when it is back.

The PostgreSQL is the test's own and is really stopped and started again. The loops run in the test's thread with
a pause of the test's own: it moves a clock instead of sleeping, so minutes of outage pass in moments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from entryway.clock import FrozenClock
from entryway.events.worker import DeliveryWorker
from entryway.jobs.scheduler import Job, Scheduler
from entryway.runtime import Runtime
from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from tests.conftest import make_settings
from tests.support.private_services import PrivatePostgres

OUTAGE_SECONDS = 300.0


class Outage:
    """The loop's pause: moves time on, stops PostgreSQL after the first pass and starts it again
    OUTAGE_SECONDS later, then lets a few passes run before stopping the loop."""

    def __init__(self, server: PrivatePostgres, clock: FrozenClock) -> None:
        self.server = server
        self.clock = clock
        self.now = 0.0
        self.pauses: list[float] = []
        self.stopped_at: float | None = None
        self.restarted = False
        self.back_at = 0  # how many pauses there had been when PostgreSQL was started again
        self.stop_loop: Callable[[], object] = lambda: None

    def monotonic(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        if len(self.pauses) > 500:  # the loop never came back (or never backed off): stop rather than hang
            self.stop_loop()
            return True
        if self.stopped_at is None:
            self.server.stop("fast")
            self.stopped_at = self.now
        elif not self.restarted and self.now - self.stopped_at >= OUTAGE_SECONDS:
            self.server.start()
            self.restarted = True
            self.back_at = len(self.pauses)
        elif self.restarted and len(self.pauses) >= self.back_at + 3:
            self.stop_loop()
        self.now += seconds
        self.clock.advance(seconds=seconds)
        return False


@pytest.fixture
def pg_rt(private_pg: PrivatePostgres, tmp_path: Path) -> Runtime:
    url = private_pg.create_database("entryway")
    engine = make_engine(url)
    upgrade(engine)
    return Runtime.build(make_settings(url, tmp_path), clock=FrozenClock(datetime.now(UTC)), engine=engine)


def _run_scheduler(rt: Runtime, outage: Outage) -> str:
    # Due at every pass, so every pass asks the database.
    job = Job("tick", lambda _: 0, interval=0.5, jitter=0.0, first_delay=0)
    scheduler = Scheduler(rt, [job], wait=outage.wait, monotonic=outage.monotonic)
    outage.stop_loop = lambda: scheduler.stop(timeout=0)
    scheduler._loop()
    return "entryway.jobs"


def _run_webhook_worker(rt: Runtime, outage: Outage) -> str:
    worker = DeliveryWorker(rt, wait=outage.wait, monotonic=outage.monotonic)
    outage.stop_loop = lambda: worker.stop(timeout=0)
    try:
        worker.run()
    finally:
        worker.stop()
    return "entryway.events"


@pytest.mark.parametrize("run_loop", [_run_scheduler, _run_webhook_worker], ids=["scheduler", "webhook-worker"])
def test_an_outage_is_logged_once_with_reminders_and_retried_with_backoff(
    pg_rt: Runtime, private_pg: PrivatePostgres, caplog: pytest.LogCaptureFixture, run_loop: Callable[..., str]
) -> None:
    clock = pg_rt.clock
    assert isinstance(clock, FrozenClock)
    outage = Outage(private_pg, clock)
    caplog.set_level(logging.INFO)
    try:
        logger = run_loop(pg_rt, outage)
    finally:
        pg_rt.engine.dispose()
    assert outage.restarted and len(outage.pauses) < 500, outage.pauses

    lines = [r for r in caplog.records if r.name == logger and r.levelno >= logging.INFO]
    warnings = [r.getMessage() for r in lines if r.levelno == logging.WARNING]
    infos = [r.getMessage() for r in lines if r.levelno == logging.INFO]
    # One warning as it starts, then about one a minute: not one a second (300 of them) from every process.
    assert "database unavailable" in warnings[0], warnings
    reminders = [w for w in warnings[1:] if "database still unavailable after" in w]
    assert reminders == warnings[1:], warnings
    assert OUTAGE_SECONDS / 60 - 2 <= len(reminders) <= OUTAGE_SECONDS / 60 + 1, warnings
    assert len(infos) == 1 and "database available again after" in infos[0], infos
    seconds_down = float(infos[0].rsplit("after ", 1)[1].split(" s")[0])
    assert OUTAGE_SECONDS <= seconds_down <= OUTAGE_SECONDS + 60

    # The retries back off 1, 2, 4 … to 30 s; once the database answers the loop is back to its 1 s pace.
    during = outage.pauses[1 : outage.back_at]
    assert during[:6] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0], outage.pauses
    assert set(during[5:]) == {30.0} and len(during) <= OUTAGE_SECONDS / 30 + 6, outage.pauses
    assert outage.pauses[-1] == 1.0
