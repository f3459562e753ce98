"""`entryway serve` stops gracefully on SIGTERM: a request in flight is finished and answered, no new
connection is accepted, and the process exits 0."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest

from tests.operations.conftest import Deployment
from tests.support.instances import Balancer, Instance, running_instance
from tests.support.login_steps import Login, authorize

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
