"""One scheduler per process for the server's periodic jobs (jobs/catalog.py lists them).

A job runs every `interval` seconds across the whole fleet, not per instance: its row in `scheduled_jobs` says
when it is next due, and a run is claimed with one conditional UPDATE that succeeds only on a due row whose
lease is free or expired. So however many instances (and workers) run a scheduler, one at a time runs a job,
and a restart does not run every job again. An instance that dies mid-run leaves its lease to expire
(`lease_seconds`), then another takes the job over. The next run is set `interval` plus a random `jitter`
fraction after the run ends, so instances started together do not stay in step.

A fresh installation's first run waits `first_delay` seconds: the first minutes of serving (and of a rolling
deploy) are for requests, not housekeeping.

Each run is its own transactions (the job decides); a job that raises is recorded as failed (the error's type
and message, no stack) and tried again at its next interval. One daemon thread per process wakes every
`tick` seconds; it asks the database about a job only when that job may be due by what it last saw. While the
database cannot be reached the thread backs off and logs the outage once, not each tick (store/outage_backoff.py).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from entryway.runtime import Runtime
from entryway.store.insert_if_absent import insert_if_absent
from entryway.store.outage_backoff import OutageBackoff
from entryway.store.tables import scheduled_jobs

log = logging.getLogger("entryway.jobs")
J = scheduled_jobs


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Runtime], int]  # returns how many items it handled (logged when not 0)
    interval: float  # seconds between the end of one run and the start of the next, fleet-wide
    jitter: float = 0.1  # up to this fraction of the interval is added at random to each next run
    first_delay: float = 60.0  # seconds from the job's first sighting (a fresh database) to its first run
    lease_seconds: float = 900.0  # longer than a run can take; then another instance may take the job over


@dataclass(frozen=True)
class Outcome:
    job: str
    ok: bool
    handled: int = 0
    error: str | None = None


def _describe(exc: Exception) -> str:
    """What the job row keeps of a failure: a database error's text carries the statement and its parameters,
    so only its type is kept; other errors keep their message."""
    if isinstance(exc, SQLAlchemyError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:500]


def _lease_free(now: datetime) -> Any:
    return or_(J.c.lease_expire_time.is_(None), J.c.lease_expire_time <= now)


class Scheduler:
    def __init__(
        self,
        rt: Runtime,
        jobs: Sequence[Job],
        *,
        tick: float = 1.0,
        rng: random.Random | None = None,
        wait: Callable[[float], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.rt = rt
        self.jobs = list(jobs)
        self.tick = tick
        self._rng = rng or random.Random()  # noqa: S311 - spreading load, not a secret
        # When, by what this process last saw, each job may next be due (it asks the database only then).
        self._look_at: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The pause between passes; tests pass their own to live through minutes of an outage in moments.
        self._wait = wait or self._stop.wait
        self._outage = OutageBackoff("scheduler", log, monotonic=monotonic)

    # --- one pass -------------------------------------------------------------------------------------------

    def run_pending(self) -> list[Outcome]:
        """Run every job that is due and not held by another instance; returns what this pass ran."""
        outcomes: list[Outcome] = []
        for job in self.jobs:
            now = self.rt.clock.now()
            if self._look_at.get(job.name, now) > now:
                continue
            token = self._claim(job, now)
            if token is None:
                continue
            outcomes.append(self._run(job, token))
        return outcomes

    def _claim(self, job: Job, now: datetime) -> str | None:
        token = secrets.token_hex(16)
        with self.rt.engine.begin() as conn:
            self._ensure_row(conn, job, now)
            claimed = conn.execute(
                update(J)
                .where(J.c.name == job.name, J.c.next_run_time <= now, _lease_free(now))
                .values(
                    lease_owner=token,
                    lease_expire_time=now + timedelta(seconds=job.lease_seconds),
                    last_start_time=now,
                )
            ).rowcount
            if claimed == 1:
                return token
            row = conn.execute(select(J.c.next_run_time, J.c.lease_expire_time).where(J.c.name == job.name)).one()
        # Not ours: look again when it is due, or when the holder's lease runs out.
        again = row.next_run_time
        if row.lease_expire_time is not None and row.lease_expire_time > now:
            again = max(again, row.lease_expire_time)
        self._look_at[job.name] = max(again, now + timedelta(seconds=self.tick))
        return None

    def _ensure_row(self, conn: Connection, job: Job, now: datetime) -> None:
        if job.name in self._look_at:
            return  # seen before by this process: the row exists (a deleted row is recreated on the next start)
        first = now + timedelta(seconds=job.first_delay * (1 + job.jitter * self._rng.random()))
        conn.execute(
            insert_if_absent(
                conn,
                J,
                "name",
                name=job.name,
                next_run_time=first,
                run_count=0,
                failure_count=0,
                consecutive_failures=0,
            )
        )

    def _run(self, job: Job, token: str) -> Outcome:
        try:
            handled = int(job.run(self.rt) or 0)
        except Exception as exc:  # a failed run is recorded and retried next interval; it never stops the server
            message = _describe(exc)
            log.warning("scheduled job %s failed: %s", job.name, type(exc).__name__)
            outcome = Outcome(job.name, ok=False, error=message)
        else:
            if handled:
                log.info("scheduled job %s handled %d item(s)", job.name, handled)
            outcome = Outcome(job.name, ok=True, handled=handled)
        self.rt.metrics.scheduled_job_run(job.name, "success" if outcome.ok else "failure")
        self._finish(job, token, outcome)
        return outcome

    def _finish(self, job: Job, token: str, outcome: Outcome) -> None:
        now = self.rt.clock.now()
        next_run = now + timedelta(seconds=job.interval * (1 + job.jitter * self._rng.random()))
        values: dict[str, object] = dict(
            lease_owner=None,
            lease_expire_time=None,
            next_run_time=next_run,
            last_finish_time=now,
            run_count=J.c.run_count + 1,
        )
        if outcome.ok:
            values.update(last_success_time=now, last_error=None, consecutive_failures=0)
        else:
            values.update(
                last_error=outcome.error,
                failure_count=J.c.failure_count + 1,
                consecutive_failures=J.c.consecutive_failures + 1,
            )
        try:
            with self.rt.engine.begin() as conn:
                # Only while the lease is still ours: a run that outlived it is not recorded over its successor's.
                conn.execute(update(J).where(J.c.name == job.name, J.c.lease_owner == token).values(**values))
        except Exception as exc:  # the database went away: the lease expires and the job runs again then
            log.warning("scheduled job %s: its outcome was not recorded (%s)", job.name, type(exc).__name__)
        self._look_at[job.name] = next_run

    # --- the thread -----------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            pause = self.tick
            try:
                self.run_pending()
            except SQLAlchemyError as exc:  # the database is away: wait longer each time, say so once
                pause = max(pause, self._outage.failed(exc))
            except Exception:  # not an outage but a defect: its stack is wanted
                log.exception("scheduler pass failed")
            else:
                self._outage.succeeded()
            self._wait(pause)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the thread to end after the job it is running, and wait up to `timeout` seconds for it."""
        self._stop.set()
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout)


def job_states(conn: Connection) -> list[dict[str, Any]]:
    """Every job's row, for /metrics (any instance reports the fleet's view)."""
    return [dict(r._mapping) for r in conn.execute(select(J).order_by(J.c.name))]
