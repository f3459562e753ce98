"""Three `entryway serve` processes on one PostgreSQL and one Redis: every step of a login goes to another
instance, so no step can lean on memory of the step before. Logins through the IdP simulator (SAML) and through
an upstream OpenID Provider (whose state, nonce and PKCE verifier the callback's instance must find or derive)."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.db import make_engine
from tests.conftest import make_settings
from tests.connectors.oidc.provider import Provider, running_provider
from tests.connectors.oidc.support import make_connection
from tests.operations.conftest import Deployment
from tests.support.instances import Balancer, Instance, running_instances
from tests.support.login_steps import CALLBACK, Login, StepFailed, full_login, query, token, userinfo
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


def _oidc_connection(deployment: Deployment, op: Provider) -> str:
    """An OIDC connection to `op` in the deployment's test organization, made as an operator would."""
    engine = make_engine(deployment.database_url)
    try:
        settings = make_settings(deployment.database_url, deployment.data_dir, deployment.app.env_url)
        rt = Runtime.build(replace(settings, allow_private_fetch=True), engine=engine)  # the OP is on loopback
        seed = seed_development(rt, deployment.app.env_url, CALLBACK)
        return make_connection(rt, seed, op).id
    finally:
        engine.dispose()


def _oidc_login(lb: Balancer, route: list[Instance], app_login: Login, op: Provider, connection_id: str) -> None:
    """authorize on route[0], the OP's login page, the callback on route[1], the code exchange on route[2] and
    userinfo on route[0]; raises StepFailed naming the step that failed."""
    started = lb.request(
        route[0],
        "GET",
        f"{app_login.app.env_url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app_login.app.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": app_login.state,
            "nonce": app_login.nonce,
            "code_challenge": app_login.challenge,
            "code_challenge_method": "S256",
            "connection_id": connection_id,
        },
    )
    if started.status_code != 302 or not started.headers["location"].startswith(op.base):
        raise StepFailed("authorize", started)
    upstream = query(started.headers["location"])
    code = op.grant(upstream, email="jane@acme.test")  # what the IdP's login page does
    back: httpx.Response = lb.request(
        route[1],
        "GET",
        f"{app_login.app.env_url}/sso/v1/oidc/{connection_id}/callback",
        params={"code": code, "state": upstream["state"]},
    )
    answer = query(back.headers.get("location", ""))
    if back.status_code != 302 or "code" not in answer:
        raise StepFailed("oidc_callback", back)
    assert answer["state"] == app_login.state
    app_login.code = answer["code"]
    for step, at in ((token, route[2]), (userinfo, route[0])):
        response = step(lb, at, app_login)
        if response.status_code != 200:
            raise StepFailed(step.__name__, response)


def test_each_step_of_an_upstream_oidc_login_on_a_different_instance(deployment: Deployment) -> None:
    with running_provider() as op:
        connection_id = _oidc_connection(deployment, op)
        env = deployment.env(ENTRYWAY_REDIS_URL=REDIS_URL, ENTRYWAY_ALLOW_PRIVATE_FETCH="1")
        with running_instances(3, env) as instances:
            lb = Balancer(deployment.app.env_url)
            try:
                logins = []
                for route in itertools.permutations(instances):
                    login = Login(deployment.app)
                    _oidc_login(lb, list(route), login, op, connection_id)
                    logins.append(login)
                keys = KeySet.import_key_set(lb.request(instances[0], "GET", f"{deployment.app.env_url}/keys").json())
                for login in logins:
                    claims = jose_jwt.decode(login.tokens["id_token"], keys, algorithms=["RS256"]).claims
                    assert claims["nonce"] == login.nonce and claims["email"] == "jane@acme.test"
                    assert userinfo(lb, instances[1], login).json()["email"] == "jane@acme.test"
                # Each upstream code was redeemed once, with the PKCE verifier the authorizing instance committed to
                # (the OP checks it), by whichever instance got the callback.
                assert len(op.token_requests) == len(logins) and not op.grants
                for instance in instances:
                    metrics = lb.http.get(f"{instance.base}/metrics").text
                    for step in ("authorize", "oidc_callback", "token", "userinfo"):
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
