"""`entryway serve` stops gracefully on SIGTERM: a request in flight is finished and answered, no new
connection is accepted, each worker's background threads (the scheduler, the webhook sender) finish what they
were doing, and the process exits 0."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import insert, select

from entryway.events import endpoints
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import seed_development
from entryway.store.db import make_engine
from entryway.store.tables import scheduled_jobs, webhook_deliveries
from tests.conftest import make_settings
from tests.events.receiver import receiver
from tests.operations.conftest import Deployment
from tests.support.database_waits import wait_for, waiting_on_lock
from tests.support.instances import Balancer, Instance, running_instance
from tests.support.login_steps import CALLBACK, Login, authorize

pytestmark = pytest.mark.e2e


def _connect_refused(port: int) -> bool:
    """Refused outright, as a load balancer needs to see it; a connection left hanging in a backlog is not."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def _waiting_on_lock(database_url: str) -> bool:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
    return bool(row and row[0])


@contextmanager
def _authorize_waiting_on_a_lock(
    deployment: Deployment, lb: Balancer, instance: Instance
) -> Iterator[tuple[psycopg.Connection[Any], threading.Thread, list[httpx.Response]]]:
    """An authorize request in flight and made slow for real: its INSERT waits on a lock another session holds
    until the caller rolls that session back. Yields the session, the request's thread and its answer."""
    answers: list[httpx.Response] = []
    with psycopg.connect(deployment.database_url) as blocker:
        blocker.execute("LOCK TABLE auth_requests IN ACCESS EXCLUSIVE MODE")
        slow = threading.Thread(target=lambda: answers.append(authorize(lb, instance, Login(deployment.app))))
        slow.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_lock(deployment.database_url):
            assert time.monotonic() < deadline, "the authorize request never reached the database"
            time.sleep(0.05)
        yield blocker, slow, answers


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(deployment: Deployment, workers: int) -> None:
    with running_instance("graceful", deployment.env(), workers=workers) as instance:
        lb = Balancer(deployment.app.env_url, timeout=60)
        with _authorize_waiting_on_a_lock(deployment, lb, instance) as (blocker, slow, answers):
            instance.terminate()
            deadline = time.monotonic() + 15
            while not _connect_refused(instance.port):
                assert time.monotonic() < deadline, "new connections were still served after SIGTERM"
                time.sleep(0.1)
            time.sleep(1.0)  # the request stays in flight a while after the stop began: it is waited for
            assert instance.process.poll() is None, "the server quit before its request in flight was answered"
            blocker.rollback()  # releases the lock: the request in flight goes on

        slow.join(timeout=30)
        lb.close()
        assert answers and answers[0].status_code == 302, answers
        # uvicorn re-raises the SIGTERM once it has shut down, so a supervisor sees how its child ended.
        assert instance.wait(timeout=30) in (0, -signal.SIGTERM), instance.output()
        assert any(line.get("message") == "Shutting down" for line in instance.lines), instance.output()


def test_in_place_a_step_waiting_on_the_database_delays_the_shutdown_but_is_answered(deployment: Deployment) -> None:
    """With ENTRYWAY_LOGIN_STEPS_IN_PLACE=1 (web/step_runner.py) a step blocks its worker's event loop, so
    SIGTERM takes effect when the step ends (docs/deployment.md, "Login steps in place"): the request in flight
    is still answered, and only then are new connections refused and the process exits."""
    env = deployment.env(ENTRYWAY_LOGIN_STEPS_IN_PLACE="1")
    with running_instance("graceful-in-place", env, workers=1) as instance:
        lb = Balancer(deployment.app.env_url, timeout=60)
        with _authorize_waiting_on_a_lock(deployment, lb, instance) as (blocker, slow, answers):
            instance.terminate()
            time.sleep(1.0)
            assert instance.process.poll() is None, "the server quit before its request in flight was answered"
            # The price of in place: the worker's event loop waits with its step, so the port still listens.
            assert not _connect_refused(instance.port), "the login step did not run in place"
            blocker.rollback()  # the step goes on, then the worker sees the signal

        slow.join(timeout=30)
        deadline = time.monotonic() + 15
        while not _connect_refused(instance.port):
            assert time.monotonic() < deadline, "new connections were still served after the step and SIGTERM"
            time.sleep(0.1)
        lb.close()
        assert answers and answers[0].status_code == 302, answers
        assert instance.wait(timeout=30) in (0, -signal.SIGTERM), instance.output()


# --- the background threads: each worker's scheduler and webhook sender ----------------------------------------


def _deployment_runtime(deployment: Deployment) -> Runtime:
    """The deployment as an operator's tools see it; allowed loopback URLs (the test's webhook receiver)."""
    settings = make_settings(deployment.database_url, deployment.data_dir, deployment.app.env_url)
    return Runtime.build(replace(settings, allow_private_fetch=True), engine=make_engine(deployment.database_url))


def _shutdowns_completed(instance: Instance) -> int:
    """Workers whose lifespan ended: uvicorn says so once their background threads have been stopped."""
    return sum(line.get("message") == "Application shutdown complete." for line in instance.lines)


def test_sigterm_lets_a_scheduled_job_in_flight_finish_and_record_its_run(deployment: Deployment) -> None:
    """SIGTERM to the supervisor of two workers while one of them runs a job: that worker waits for the job (up to
    15 s), which records its outcome and frees its claim, rather than leaving it held for its 15-minute lease."""
    rt = _deployment_runtime(deployment)
    url = deployment.database_url
    try:
        with rt.engine.begin() as conn:  # the purge is due at once, not after its first delay
            conn.execute(
                insert(scheduled_jobs).values(
                    name="login_state_purge",
                    next_run_time=datetime.now(UTC) - timedelta(minutes=1),
                    run_count=0,
                    failure_count=0,
                    consecutive_failures=0,
                )
            )
        with psycopg.connect(url) as blocker:
            blocker.execute("LOCK TABLE auth_requests IN ACCESS EXCLUSIVE MODE")  # the purge's first DELETE waits
            with running_instance("graceful-jobs", deployment.env(), workers=2) as instance:
                wait_for(lambda: waiting_on_lock(url), "the scheduled purge never started")
                instance.terminate()
                time.sleep(1.5)
                assert instance.process.poll() is None, "the server quit while its scheduled job was running"
                blocker.rollback()
                assert instance.wait(timeout=30) in (0, -signal.SIGTERM), instance.output()
        with rt.engine.connect() as conn:
            row = conn.execute(select(scheduled_jobs).where(scheduled_jobs.c.name == "login_state_purge")).one()
    finally:
        rt.engine.dispose()
    assert row.lease_owner is None and row.run_count == 1 and row.last_success_time is not None, row
    assert _shutdowns_completed(instance) == 2, instance.output()


def test_sigterm_lets_a_webhook_send_in_flight_finish_and_record_its_outcome(deployment: Deployment) -> None:
    """The webhook sender of a stopping worker finishes the send it started (up to 15 s) and records it, so the
    receiver is not sent the event again by another instance once the lease runs out."""
    rt = _deployment_runtime(deployment)
    try:
        with receiver() as hook:
            hook.default = (200, 3.0)  # a slow receiver: still answering well after SIGTERM
            environment = seed_development(rt, deployment.app.env_url, CALLBACK).environment
            with rt.engine.begin() as conn:
                endpoints.create_endpoint(rt, conn, environment, url=hook.url, event_types=["organization.created"])
                organizations.create_organization(rt, conn, environment.id, display_name="Late")
            env = deployment.env(ENTRYWAY_ALLOW_PRIVATE_FETCH="1")  # the receiver is on loopback
            with running_instance("graceful-webhooks", env, workers=2) as instance:
                hook.wait_for(1)
                instance.terminate()
                assert instance.wait(timeout=30) in (0, -signal.SIGTERM), instance.output()
        with rt.engine.connect() as conn:
            statuses = list(conn.scalars(select(webhook_deliveries.c.status)))
    finally:
        rt.engine.dispose()
    assert statuses == ["SUCCEEDED"] and len(hook.received) == 1, (statuses, len(hook.received))
    assert _shutdowns_completed(instance) == 2, instance.output()
