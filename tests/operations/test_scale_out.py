"""Three `entryway serve` processes on one PostgreSQL and one Redis: every step of a login goes to another
instance, so no step can lean on memory of the step before."""

from __future__ import annotations

import itertools
import re

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.operations.conftest import Deployment
from tests.support.instances import Balancer, running_instances
from tests.support.login_steps import full_login, token
from tests.support.redis_urls import REDIS_URL

pytestmark = pytest.mark.e2e


def _count(metrics: str, step: str) -> float:
    found = re.findall(rf'entryway_request_duration_seconds_count{{status_class="\dxx",step="{step}"}} (\S+)', metrics)
    return sum(float(v) for v in found)


def test_each_login_step_on_a_different_instance(deployment: Deployment) -> None:
    with running_instances(3, deployment.env(ENTRYWAY_REDIS_URL=REDIS_URL)) as instances:
        lb = Balancer(deployment.app.env_url)
        try:
            # Every order of the three instances, so each step lands on each instance and never on the one
            # that served the step before it.
            routes = [list(p) for p in itertools.permutations(instances)]
            logins = [full_login(lb, route, deployment.app) for route in routes]

            keys = KeySet.import_key_set(lb.request(instances[2], "GET", f"{deployment.app.env_url}/keys").json())
            for login in logins:
                claims = jose_jwt.decode(login.tokens["id_token"], keys, algorithms=["RS256"]).claims
                assert claims["nonce"] == login.nonce and claims["aud"] == [deployment.app.client_id]
                assert claims["email"] == "jane@example.com"

            # A code is single-use on every instance: the first login's code, redeemed again elsewhere, fails.
            again = token(lb, instances[1], logins[0])
            assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

            # Each instance really served every kind of step (its own Prometheus figures say so).
            for instance in instances:
                metrics = lb.http.get(f"{instance.base}/metrics").text
                for step in ("authorize", "simulator", "saml_acs", "token", "userinfo"):
                    assert _count(metrics, step) >= 1, (instance.name, step)
        finally:
            lb.close()


def test_request_id_is_propagated_into_the_instance_log(deployment: Deployment) -> None:
    with running_instances(1, deployment.env()) as (instance,):
        lb = Balancer(deployment.app.env_url)
        try:
            response = lb.request(
                instance, "GET", f"{deployment.app.env_url}/oauth/authorize", headers={"x-request-id": "trace-4711"}
            )
            assert response.headers["x-request-id"] == "trace-4711"
        finally:
            lb.close()
        instance.terminate()
        instance.wait()
    lines = [line for line in instance.lines if line.get("request_id") == "trace-4711"]
    assert lines, instance.output()
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
