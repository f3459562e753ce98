"""PostgreSQL's host vanishes (a crash, a partition, a failover away from it): its packets stop, no connection is
closed. Requests must still be answered 503 within a bound, not hang until TCP gives up (about 15 minutes on
Linux, or never, for a request that already sent its query and waits for the answer), and serving resumes by
itself once the host answers again.

The PostgreSQL runs on a host of the test's own (tests/support/network_namespace.py) that the test cuts off."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from entryway.store.db import CONNECT_TIMEOUT_SECONDS, DEAD_PEER_SECONDS
from tests.operations.conftest import deploy
from tests.support.database_waits import wait_for, waiting_on_lock
from tests.support.instances import Balancer, running_instance
from tests.support.login_steps import Login, authorize, full_login
from tests.support.network_namespace import isolated_host
from tests.support.private_services import private_postgres

pytestmark = pytest.mark.e2e

# A request may meet a connection that went silent, then fail to open a new one.
BOUND_SECONDS = DEAD_PEER_SECONDS + CONNECT_TIMEOUT_SECONDS + 5


@pytest.mark.parametrize(
    "when",
    ["idle", "waiting"],
    ids=["query-sent-after-the-cut", "answer-awaited-during-the-cut"],
)
def test_a_vanished_postgres_host_is_answered_503_within_a_bound_and_recovered_from(tmp_path: Path, when: str) -> None:
    with isolated_host() as host, private_postgres(host) as postgres:
        deployment = deploy(postgres.create_database("entryway"), tmp_path)
        url = deployment.database_url
        with running_instance("steady", deployment.env()) as instance:
            lb = Balancer(deployment.app.env_url, timeout=BOUND_SECONDS + 30)
            try:
                full_login(lb, [instance], deployment.app)  # its connections stay pooled, open
                answers: list[httpx.Response] = []
                thread = threading.Thread(target=lambda: answers.append(authorize(lb, instance, Login(deployment.app))))
                blocker = psycopg.connect(url)
                try:
                    if when == "waiting":
                        # The request's INSERT is sent and acknowledged; its answer waits on the lock.
                        blocker.execute("LOCK TABLE auth_requests IN ACCESS EXCLUSIVE MODE")
                    if when == "waiting":
                        thread.start()
                        wait_for(lambda: waiting_on_lock(url), "the authorize request never reached the database")
                    host.cut_off()
                    started = time.monotonic()
                    if when == "idle":
                        thread.start()
                    thread.join(BOUND_SECONDS + 30)
                    took = time.monotonic() - started
                    host.reconnect()
                finally:
                    blocker.close()  # after the reconnection: the server ends its session, and the lock with it
                assert answers, "no answer"
                assert answers[0].status_code == 503 and "temporarily_unavailable" in answers[0].text
                assert took <= BOUND_SECONDS, f"answered after {took:.1f} s"

                assert full_login(lb, [instance], deployment.app).tokens["access_token"]
            finally:
                lb.close()
