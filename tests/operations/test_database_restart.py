"""PostgreSQL restarted under running instances: a login step in flight at that moment is answered 503 and
succeeds when resubmitted, with its code issued (or redeemed) once; the pooled connections the restart closed
are replaced without a failed request. The PostgreSQL is the test's own (tests/support/private_services.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from entryway.services.logins import hash_code
from entryway.store.db import make_engine
from tests.operations.conftest import deploy
from tests.support.database_waits import codes_per_login, row_locked, wait_for, waiting_on_lock
from tests.support.instances import Balancer, Instance, running_instance
from tests.support.login_steps import Login, acs, authorize, full_login, idp_answer, token, userinfo
from tests.support.private_services import PrivatePostgres

pytestmark = pytest.mark.e2e

Row = tuple[str, str, str]  # table, column, value
STEP_MODES = pytest.mark.parametrize("in_place", ["0", "1"], ids=["thread-pool", "in-place"])


def test_pooled_connections_closed_by_a_restart_are_replaced_at_checkout(private_pg: PrivatePostgres) -> None:
    """No pre-ping round trip (store/db.py), yet no statement fails on a connection the restart closed."""
    engine = make_engine(private_pg.url())
    try:
        held = [engine.connect() for _ in range(3)]  # three connections, back in the pool, idle
        for conn in held:
            conn.exec_driver_sql("SELECT 1")
            conn.close()
        private_pg.stop("fast")
        private_pg.start()
        again = [engine.connect() for _ in range(3)]
        try:
            assert [conn.exec_driver_sql("SELECT 1").scalar() for conn in again] == [1, 1, 1]
        finally:
            for conn in again:
                conn.close()
    finally:
        engine.dispose()


def test_a_login_right_after_a_restart_meets_no_503(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    deployment = deploy(private_pg.create_database("entryway"), tmp_path)
    # The configuration is not looked at again during the test: the first statement after each restart is a
    # login step's own, on a connection pooled before the restart.
    env = deployment.env(ENTRYWAY_CONFIG_CACHE_SECONDS="3600")
    with running_instance("steady", env) as instance:
        lb = Balancer(deployment.app.env_url)
        try:
            full_login(lb, [instance], deployment.app)
            for _ in range(2):
                private_pg.stop("fast")
                private_pg.start()
                assert full_login(lb, [instance], deployment.app).tokens["access_token"]  # StepFailed names a 503
        finally:
            lb.close()


def _auth_request_row(login: Login) -> Row:
    """What the ACS marks completed once it has read it."""
    return "auth_requests", "id", login.answer["RelayState"]  # the RelayState is the auth request's ID


def _code_row(login: Login) -> Row:
    """What the token endpoint marks redeemed once it has read it."""
    assert login.code
    return "auth_codes", "code_hash", hash_code(login.code)


# A step, the status it answers once it succeeds, and the row it writes (locked to hold the step in flight).
STEPS: dict[str, tuple[Callable[[Balancer, Instance, Login], httpx.Response], int, Callable[[Login], Row]]] = {
    "acs": (acs, 302, _auth_request_row),
    "token": (token, 200, _code_row),
}


@STEP_MODES
@pytest.mark.parametrize("step_name", list(STEPS))
def test_a_step_in_flight_when_postgres_restarts_is_answered_503_and_succeeds_again(
    private_pg: PrivatePostgres, tmp_path: Path, step_name: str, in_place: str
) -> None:
    deployment = deploy(private_pg.create_database("entryway"), tmp_path)
    url = deployment.database_url
    step, wanted, locked_row = STEPS[step_name]
    with running_instance("steady", deployment.env(ENTRYWAY_LOGIN_STEPS_IN_PLACE=in_place)) as instance:
        lb = Balancer(deployment.app.env_url)
        try:
            login = Login(deployment.app)
            for before, status in ((authorize, 302), (idp_answer, 200), (acs, 302)):
                if before is step:
                    break
                assert before(lb, instance, login).status_code == status
            answers: list[httpx.Response] = []
            # The step has sent its writes and waits, its transaction open, when PostgreSQL restarts under it.
            with row_locked(url, *locked_row(login)):
                thread = threading.Thread(target=lambda: answers.append(step(lb, instance, login)))
                thread.start()
                wait_for(lambda: waiting_on_lock(url), f"the {step_name} request never reached the database")
                # Immediate, as a crash or a failover ends it: every backend exits at once. A fast stop ends the
                # sessions one by one, and when the lock holder's ends first, the step's backend may be granted
                # the lock and commit before its own turn comes (seen once in CI): the step then succeeds, and
                # this test would not be testing a step cut off in flight.
                private_pg.stop("immediate")
                thread.join(timeout=30)
            private_pg.start()

            assert answers and answers[0].status_code == 503, answers
            assert answers[0].headers["retry-after"] == "2" and "temporarily_unavailable" in answers[0].text
            # Resubmitted as is (the browser's form again, the app's token request again), on the same instance.
            again = step(lb, instance, login)
            assert again.status_code == wanted and (step is not acs or login.code), again.text
            if step is acs:
                assert token(lb, instance, login).status_code == 200
            assert userinfo(lb, instance, login).json()["email"] == "jane@example.com"
        finally:
            lb.close()

    # One code for the login, redeemed once, and nothing revoked: neither issued twice nor lost.
    assert list(codes_per_login(url).values()) == [1]
    with psycopg.connect(url) as conn:
        redeemed = conn.execute("SELECT count(*) FROM auth_codes WHERE used_time IS NOT NULL").fetchone()
        revoked = conn.execute("SELECT count(*) FROM revoked_tokens").fetchone()
    assert (redeemed, revoked) == ((1,), (0,))
