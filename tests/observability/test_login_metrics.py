"""entryway_login_events_total counts every failed login step once, by its contract error code: the IdP callbacks
(SAML ACS, OIDC redirect URI) and the token endpoint, including the token requests refused before any code was
looked up (client authentication, the form, the grant type, the throttle), which the auth log does not hold."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.model.errors import ALL_LOGIN_ERRORS
from entryway.oidc_provider.auth_failures import CLIENT_LIMIT
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL, code_form, issue_code

_LINE = re.compile(r'^entryway_login_events_total\{error_code="([^"]*)",outcome="([^"]*)",step="([^"]*)"\} (\S+)$')


def _failures(http: TestClient, step: str) -> dict[str, float]:
    """Failed events of `step` by error code, as /metrics shows them."""
    found: dict[str, float] = {}
    for line in http.get("/metrics").text.splitlines():
        match = _LINE.match(line)
        if match and match[2] == "failed" and match[3] == step:
            found[match[1]] = float(match[4])
    return found


def test_every_refused_token_request_is_counted_once_by_its_code(rt: Runtime) -> None:
    # Failed client authentications counted in this process only: the throttle below is this test's own.
    runtime = Runtime.build(replace(rt.settings, redis_url=None), engine=rt.engine)
    seed = seed_development(runtime, ENV_URL, CALLBACK)
    assert seed.plain_secret is not None
    http = TestClient(create_app(runtime), base_url=ENV_URL)
    auth = {"client_id": seed.client_id, "client_secret": seed.plain_secret}

    assert http.post("/oauth/token", json={"grant_type": "client_credentials"}).status_code == 400
    assert http.post("/oauth/token", data={"grant_type": "password", **auth}).status_code == 400
    unknown = http.post("/oauth/token", data=code_form(seed, "not-a-code-this-environment-issued"))
    assert unknown.json()["error"] == "invalid_grant"  # recorded in the auth log: counted there, not again
    code = issue_code(runtime, seed)
    assert http.post("/oauth/token", data=code_form(seed, code)).status_code == 200
    again = http.post("/oauth/token", data=code_form(seed, code))
    assert again.json()["error"] == "invalid_grant"  # a reused code: recorded (with what it revoked), counted once
    wrong = {"grant_type": "client_credentials", "client_id": seed.client_id, "client_secret": "ews_wrong"}
    statuses = [http.post("/oauth/token", data=wrong).status_code for _ in range(CLIENT_LIMIT + 2)]
    assert statuses == [401] * CLIENT_LIMIT + [429, 429]

    assert _failures(http, "token") == {
        "invalid_request": 1,  # not a form
        "unsupported_grant_type": 1,
        "invalid_grant": 2,  # the unknown code and the reused one
        "invalid_client": CLIENT_LIMIT + 2,  # the wrong secrets, then the throttled tries
    }


def test_failed_idp_callbacks_are_counted_by_their_code(rt: Runtime) -> None:
    seed_development(rt, ENV_URL, CALLBACK)
    http = TestClient(create_app(rt), base_url=ENV_URL, follow_redirects=False)
    acs = http.post("/sso/v1/saml/conn_missing/callback", data={"SAMLResponse": "PHg+"})
    oidc = http.get("/sso/v1/oidc/conn_missing/callback", params={"code": "c", "state": "s"})
    assert acs.status_code >= 400 and oidc.status_code >= 400
    failures = _failures(http, "callback")
    assert sum(failures.values()) == 2, failures
    assert set(failures) <= set(ALL_LOGIN_ERRORS) and "" not in failures, failures
