"""Faults, each provoked for real: PostgreSQL stopped under load, an instance SIGKILLed while its ACS or its token
request waits in its transaction, SAML answers raced to two instances at once, Redis gone and Redis restarted.
PostgreSQL and Redis here are private servers of the test's own (tests/support/private_services.py); the
machine's shared ones are never stopped. PostgreSQL restarted mid-step: test_database_restart.py; its host cut
off: test_database_unreachable.py."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from entryway.services.logins import hash_code
from entryway.shared_redis import RETRY_SECONDS
from tests.operations.conftest import Deployment, deploy
from tests.support.database_waits import codes_per_login, row_locked, wait_for, waiting_on_lock
from tests.support.instances import Balancer, Instance, running_instance, running_instances
from tests.support.login_steps import Login, acs, authorize, full_login, idp_answer, token, userinfo
from tests.support.private_services import PrivatePostgres, private_redis
from tests.support.redis_urls import REDIS_URL

pytestmark = pytest.mark.e2e

# Each fault is provoked with the login steps in the thread pool (the default) and on the event loop
# (ENTRYWAY_LOGIN_STEPS_IN_PLACE=1, web/step_runner.py), where a step that waits holds its whole worker.
STEP_MODES = pytest.mark.parametrize("in_place", ["0", "1"], ids=["thread-pool", "in-place"])


# --- PostgreSQL stopped under load ---------------------------------------------------------------------------


@dataclass
class LoadReport:
    completed: list[Login] = field(default_factory=list)
    unavailable: list[httpx.Response] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _step_until_done(lb: Balancer, at: Instance, login: Login, step: object, wanted: int, report: LoadReport,
                     stop: threading.Event) -> bool:  # fmt: skip
    """One step, resubmitted (as a person would) while Entryway answers 503; False when the load is stopped."""
    while True:
        try:
            response = step(lb, at, login)  # type: ignore[operator]
        except httpx.TransportError as exc:
            with report.lock:
                report.unexpected.append(f"{step.__name__}: {type(exc).__name__}")  # type: ignore[attr-defined]
            return False
        if response.status_code == wanted and (step is not acs or login.code):
            return True
        if response.status_code == 503:
            with report.lock:
                report.unavailable.append(response)
            if stop.is_set():
                return False
            time.sleep(0.2)
            continue
        with report.lock:
            report.unexpected.append(f"{step.__name__}: {response.status_code} {response.text[:200]}")  # type: ignore[attr-defined]
        return False


def _load(lb: Balancer, instances: list[Instance], deployment: Deployment, report: LoadReport,
          stop: threading.Event, offset: int) -> None:  # fmt: skip
    steps = [(authorize, 302), (idp_answer, 200), (acs, 302), (token, 200), (userinfo, 200)]
    n = offset
    while not stop.is_set():
        login = Login(deployment.app)
        for index, (step, wanted) in enumerate(steps):
            if not _step_until_done(lb, instances[(n + index) % len(instances)], login, step, wanted, report, stop):
                return
        with report.lock:
            report.completed.append(login)
        n += 1


@STEP_MODES
def test_postgres_stopped_under_load(private_pg: PrivatePostgres, tmp_path: Path, in_place: str) -> None:
    deployment = deploy(private_pg.create_database("entryway"), tmp_path)
    with running_instances(2, deployment.env(ENTRYWAY_LOGIN_STEPS_IN_PLACE=in_place)) as instances:
        lb = Balancer(deployment.app.env_url)
        report, stop = LoadReport(), threading.Event()
        workers = [threading.Thread(target=_load, args=(lb, instances, deployment, report, stop, k)) for k in range(3)]
        for w in workers:
            w.start()
        try:
            wait_for(lambda: len(report.completed) >= 3, "no login completed before the outage", 120)
            private_pg.stop("fast")
            before = len(report.completed)
            wait_for(lambda: len(report.unavailable) >= 6, "no 503 while PostgreSQL was down", 60)

            ready = lb.http.get(f"{instances[0].base}/readyz")
            assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
            assert lb.http.get(f"{instances[0].base}/healthz").status_code == 200
            time.sleep(1)

            private_pg.start()  # the same instances keep running: no restart of Entryway
            wait_for(
                lambda: len(report.completed) >= before + 6, "logins did not resume after PostgreSQL came back", 120
            )
            assert lb.http.get(f"{instances[1].base}/readyz").status_code == 200
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=60)
            lb.close()

    assert not report.unexpected, report.unexpected
    # Every answer while PostgreSQL was down was a clear 503 carrying a contract error and Retry-After.
    for response in report.unavailable:
        assert response.headers["retry-after"] == "2"
        if response.headers["content-type"].startswith("application/json"):
            assert response.json()["error"] == "temporarily_unavailable", response.text
        else:
            assert "temporarily_unavailable" in response.text and "Try again" in response.text
    # No code lost (every login that got one redeemed it) and none issued twice.
    codes = [login.code for login in report.completed]
    assert len(codes) == len(set(codes))
    per_login = codes_per_login(deployment.database_url)
    assert set(per_login.values()) == {1}, per_login
    assert all(login.tokens.get("access_token") for login in report.completed)


# --- an instance killed mid-login ----------------------------------------------------------------------------


@STEP_MODES
def test_instance_killed_mid_login_completes_on_another(deployment: Deployment, in_place: str) -> None:
    with _doomed_and_survivor(deployment, in_place) as (doomed, survivor, lb):
        login = Login(deployment.app)
        assert authorize(lb, doomed, login).status_code == 302
        assert idp_answer(lb, doomed, login).status_code == 200
        # The ACS request is in flight on `doomed` (held on a lock inside its transaction) when it is killed.
        with psycopg.connect(deployment.database_url) as blocker:
            blocker.execute("LOCK TABLE auth_codes IN ACCESS EXCLUSIVE MODE")
            outcome = _killed_while_waiting_on_a_lock(doomed, deployment.database_url, lambda: acs(lb, doomed, login))
            blocker.rollback()
        assert isinstance(outcome, httpx.TransportError), outcome
        assert login.code is None

        # The browser posts the same response again; the balancer sends it to the surviving instance.
        response = acs(lb, survivor, login)
        assert response.status_code == 302 and login.code, response.text
        assert token(lb, survivor, login).status_code == 200
        assert userinfo(lb, survivor, login).json()["email"] == "jane@example.com"
        assert list(codes_per_login(deployment.database_url).values()) == [1]


@contextmanager
def _doomed_and_survivor(deployment: Deployment, in_place: str) -> Iterator[tuple[Instance, Instance, Balancer]]:
    """Two instances, one of them to be killed mid-request, and the balancer that sends each request to either."""
    env = deployment.env(ENTRYWAY_LOGIN_STEPS_IN_PLACE=in_place)
    with (
        running_instance("doomed", env) as doomed,
        running_instance("survivor", env) as survivor,
    ):
        lb = Balancer(deployment.app.env_url)
        try:
            yield doomed, survivor, lb
        finally:
            lb.close()


def _killed_while_waiting_on_a_lock(
    instance: Instance, database_url: str, send: Callable[[], httpx.Response]
) -> object:
    """Send a request to `instance` and kill the instance once the request waits on a lock the caller holds: the
    client's answer, or the transport error it got."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(send())
        except httpx.TransportError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(lambda: waiting_on_lock(database_url), "the request never reached the database")
    instance.kill()
    instance.wait()
    thread.join(timeout=30)
    assert outcome, "the request got neither an answer nor a transport error"
    return outcome[0]


def _jti(access_token: str) -> str:
    payload = access_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


@STEP_MODES
def test_instance_killed_during_the_token_request_the_code_is_redeemed_on_another(
    deployment: Deployment, in_place: str
) -> None:
    """The redemption is sent and waiting in its transaction when the instance dies: the code must stay
    unredeemed (no COMMIT was ever sent), so the app's retry on another instance gets the tokens, once."""
    url = deployment.database_url
    with _doomed_and_survivor(deployment, in_place) as (doomed, survivor, lb):
        login = Login(deployment.app)
        for step, wanted in ((authorize, 302), (idp_answer, 200), (acs, 302)):
            assert step(lb, doomed, login).status_code == wanted
        assert login.code
        # The code's row is locked: the request reads it, then its UPDATE waits on the lock, sent but unanswered.
        with row_locked(url, "auth_codes", "code_hash", hash_code(login.code)):
            outcome = _killed_while_waiting_on_a_lock(doomed, url, lambda: token(lb, doomed, login))
        # The lock is gone: a redemption committed with its statement would now be stored for the dead instance.
        assert isinstance(outcome, httpx.TransportError), outcome

        response = token(lb, survivor, login)
        assert response.status_code == 200, response.text
        assert userinfo(lb, survivor, login).json()["email"] == "jane@example.com"
        with psycopg.connect(url) as conn:
            redeemed = conn.execute("SELECT issued_jti FROM auth_codes WHERE used_time IS NOT NULL").fetchall()
            revoked = conn.execute("SELECT count(*) FROM revoked_tokens").fetchone()
        assert redeemed == [(_jti(login.tokens["access_token"]),)] and revoked == (0,), (redeemed, revoked)


# --- one SAML response posted to two instances at once -------------------------------------------------------


@STEP_MODES
@pytest.mark.parametrize("responses", ["same", "two"], ids=["one-response-twice", "two-responses-to-one-login"])
def test_saml_answers_raced_on_two_instances_complete_the_login_once(
    deployment: Deployment, in_place: str, responses: str
) -> None:
    """The same response posted twice (a double submit, a replay) is stopped by the replay record and by the login
    no longer pending; two responses to one login (the IdP asked twice: two assertion IDs) by the latter alone."""
    with running_instances(2, deployment.env(ENTRYWAY_LOGIN_STEPS_IN_PLACE=in_place)) as (first, second):
        lb = Balancer(deployment.app.env_url)
        try:
            login = Login(deployment.app)
            assert authorize(lb, first, login).status_code == 302
            assert idp_answer(lb, second, login).status_code == 200
            posted = [login.answer]
            if responses == "two":
                assert idp_answer(lb, first, login).status_code == 200
                posted.append(login.answer)
                assert posted[0]["SAMLResponse"] != posted[1]["SAMLResponse"]
            answers: list[httpx.Response] = []
            twins = [
                Login(deployment.app, verifier=login.verifier, state=login.state, answer=posted[n % len(posted)])
                for n in range(2)
            ]
            # Both posts wait on the same lock, so they truly race once it is released.
            with psycopg.connect(deployment.database_url) as blocker:
                blocker.execute("LOCK TABLE auth_requests, saml_replay IN ACCESS EXCLUSIVE MODE")
                threads = [
                    threading.Thread(target=lambda i=i, t=t: answers.append(acs(lb, i, t)))
                    for i, t in zip((first, second), twins, strict=True)
                ]
                for t in threads:
                    t.start()
                wait_for(lambda: waiting_on_lock(deployment.database_url, 2), "both posts never reached the database")
                blocker.rollback()
            for t in threads:
                t.join(timeout=30)
        finally:
            lb.close()

    assert len(answers) == 2 and all(a.status_code == 302 for a in answers), [a.text for a in answers]
    winners = [t for t in twins if t.code]
    assert len(winners) == 1, [a.headers["location"] for a in answers]
    loser = next(a for a in answers if "code=" not in a.headers["location"])
    assert "error=" in loser.headers["location"]
    assert list(codes_per_login(deployment.database_url).values()) == [1]


# --- Redis down ----------------------------------------------------------------------------------------------


def _bad_secret(lb: Balancer, at: Instance, deployment: Deployment) -> int:
    response = lb.request(
        at,
        "POST",
        f"{deployment.app.env_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": deployment.app.client_id, "client_secret": "wrong"},
    )
    return response.status_code


@STEP_MODES
def test_redis_down_keeps_logins_working_with_limits_in_process(deployment: Deployment, in_place: str) -> None:
    with private_redis() as server:
        env = deployment.env(ENTRYWAY_REDIS_URL=server.url, ENTRYWAY_LOGIN_STEPS_IN_PLACE=in_place)
        with running_instances(2, env) as (first, second):
            lb = Balancer(deployment.app.env_url)
            try:
                # With Redis up, the failure limit is shared: failures on one instance lock the client on the other.
                assert [_bad_secret(lb, first, deployment) for _ in range(10)] == [401] * 10
                assert _bad_secret(lb, second, deployment) == 429
                assert redis.Redis.from_url(server.url).keys("entryway:authfail:*")

                server.stop()
                # Logins go on, every step on another instance.
                for _ in range(2):
                    assert full_login(lb, [first, second], deployment.app).tokens["access_token"]
                # The limit still holds, counted in each process: a client that keeps guessing is stopped.
                statuses = [_bad_secret(lb, first, deployment) for _ in range(12)]
                assert statuses[-1] == 429 and 401 in statuses, statuses
            finally:
                lb.close()
        warnings = [
            line for i in (first, second) for line in i.lines if "redis unavailable" in str(line.get("message"))
        ]
        assert warnings


def test_redis_restarted_limits_are_shared_again(deployment: Deployment) -> None:
    """Redis stops and comes back empty on the same address (a restart without persistence): once the pause after
    each instance's failure is over, the instances count in Redis again, so failures on one lock the client out of
    the other."""
    with private_redis() as server, running_instances(2, deployment.env(ENTRYWAY_REDIS_URL=server.url)) as instances:
        first, second = instances
        lb = Balancer(deployment.app.env_url)
        try:
            assert full_login(lb, [first, second], deployment.app).tokens["access_token"]
            server.stop()
            # Each instance meets the outage at its token step, and logins go on.
            assert full_login(lb, [first, second], deployment.app).tokens["access_token"]
            assert full_login(lb, [second, first], deployment.app).tokens["access_token"]
            server.start()
            time.sleep(RETRY_SECONDS + 0.5)  # each instance asks Redis again after this pause

            # Failures on `first` only: `second` never counted one itself, so its 429 can come only from Redis.
            assert [_bad_secret(lb, first, deployment) for _ in range(10)] == [401] * 10
            assert _bad_secret(lb, second, deployment) == 429
            assert redis.Redis.from_url(server.url).keys("entryway:authfail:client:*")
        finally:
            lb.close()


def test_shared_redis_is_used_when_configured(deployment: Deployment) -> None:
    """The counterpart of the test above on the machine's Redis: the keys really are written there."""
    with running_instance("r", deployment.env(ENTRYWAY_REDIS_URL=REDIS_URL)) as instance:
        lb = Balancer(deployment.app.env_url)
        try:
            assert _bad_secret(lb, instance, deployment) == 401
        finally:
            lb.close()
    client_keys = redis.Redis.from_url(REDIS_URL).keys(f"entryway:authfail:client:*:{deployment.app.client_id}")
    assert client_keys
