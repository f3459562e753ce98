"""Logout through an OIDC connection ends the IdP's session first (its end_session_endpoint), then comes back
to finish the app's logout at its registered post-logout URL with its state."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import jwt
from fastapi.testclient import TestClient

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import CLIENT_ID, Provider, running_provider
from tests.connectors.oidc.support import ENV_URL, app_result, login, make_connection, query, redeem

AFTER = "http://localhost:3000/signed-out"


def id_token_after_login(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, connection_id: str) -> str:
    with ort.engine.begin() as db:
        environments.add_redirect_uri(ort, db, seed.environment, RedirectKind.POST_LOGOUT, AFTER)
    code = app_result(login(http, seed, op, connection_id))["code"]
    return str(redeem(http, seed, code)["id_token"])


def logout(http: TestClient, id_token: str, state: str = "bye-1") -> str:
    response = http.get(
        "/oidc/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": AFTER, "state": state}
    )
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def test_the_idp_session_is_ended_and_the_browser_comes_back(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    to_idp = logout(http, id_token)
    assert to_idp.startswith(f"{op.base}/logout?")
    sent = query(to_idp)
    assert sent["client_id"] == CLIENT_ID
    assert sent["post_logout_redirect_uri"] == f"{ENV_URL}/sso/v1/oidc/{conn.id}/logout"
    assert jwt.get_unverified_header(sent["state"])["typ"] == "logout+jwt"  # signed, short-lived, for the landing
    # The IdP ends its session and redirects to the landing, which finishes the app's logout.
    back = httpx.get(to_idp, follow_redirects=False)
    assert op.logouts and back.status_code == 302
    landing = str(back.headers["location"]).removeprefix(ENV_URL)
    finished = http.get(landing)
    assert finished.status_code == 302 and finished.headers["location"] == f"{AFTER}?state=bye-1"


def test_a_forged_or_foreign_landing_state_is_refused(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    carried = query(logout(http, id_token))["state"]
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout?" + urlencode({"state": carried})).status_code == 302
    # The ID token itself (signed by the same key) is not a logout state: wrong audience.
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout?" + urlencode({"state": id_token})).status_code == 400
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout").status_code == 400
    with running_provider() as other_op:
        other = make_connection(ort, seed, other_op)
        assert http.get(f"/sso/v1/oidc/{other.id}/logout?" + urlencode({"state": carried})).status_code == 400


def test_an_idp_without_end_session_endpoint_logs_out_locally(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.discovery_drop = ("end_session_endpoint",)
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    assert logout(http, id_token) == f"{AFTER}?state=bye-1"
    assert op.logouts == []
