"""Interop: SAML single logout with pysaml2's IdP (an independent implementation, signing through xmlsec1)
against a real Entryway server over loopback HTTP.

SP-initiated: the app calls /oidc/logout with the ID token; Entryway sends pysaml2 a signed LogoutRequest
naming the login's NameID and SessionIndex (pysaml2 checks the signature against Entryway's SP metadata);
pysaml2's signed LogoutResponse comes back to the SP SLO endpoint, and the browser lands on the app's
post-logout URL with its state. IdP-initiated: pysaml2 sends a signed LogoutRequest; Entryway ends the session
and answers with a signed LogoutResponse that pysaml2 accepts. Both over Redirect, and over POST for an IdP that
offers only POST.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from sqlalchemy import select

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.store.tables import saml_sessions
from tests.interop.saml_pysaml2.idp import posted_form
from tests.interop.saml_pysaml2.test_pysaml2_idp import CALLBACK, EMAIL, Setup, _authorize, _claims, _setup, query

BYE = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def redirect_setup(rt: Runtime, tmp_path: Path) -> Iterator[Setup]:
    with _setup(rt, tmp_path, want_signed_requests=True) as ready:
        _register_post_logout(rt, ready)
        yield ready


@pytest.fixture
def post_only_setup(rt: Runtime, tmp_path: Path) -> Iterator[Setup]:
    with _setup(rt, tmp_path, want_signed_requests=True, slo_bindings=(BINDING_HTTP_POST,)) as ready:
        _register_post_logout(rt, ready)
        yield ready


def _register_post_logout(rt: Runtime, setup: Setup) -> None:
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, setup.seed.environment, RedirectKind.POST_LOGOUT, BYE)


def _login(setup: Setup) -> dict[str, Any]:
    """A complete SP-initiated login through pysaml2; the ID token's claims and the token itself."""
    page = setup.http.get(_authorize(setup, "login").headers["location"])
    action, fields = posted_form(page.text)
    code = query(setup.http.post(action, data=fields).headers["location"])["code"]
    tokens = setup.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": setup.seed.client_id,
            "client_secret": setup.seed.plain_secret,
        },
    ).json()
    return {"id_token": tokens["id_token"], "access_token": tokens["access_token"], **_claims(tokens["id_token"])}


def _session(rt: Runtime, sid: str) -> Any:
    with rt.engine.connect() as db:
        return db.execute(select(saml_sessions).where(saml_sessions.c.session_id == sid)).one()


def _app_logout(setup: Setup, login: dict[str, Any], state: str) -> httpx.Response:
    return setup.http.get(
        "/oidc/logout", params={"id_token_hint": login["id_token"], "post_logout_redirect_uri": BYE, "state": state}
    )


def test_sp_initiated_logout_over_redirect(redirect_setup: Setup, rt: Runtime) -> None:
    setup = redirect_setup
    login = _login(setup)
    recorded = _session(rt, login["sid"])
    assert recorded.name_id == EMAIL and recorded.session_index
    to_idp = _app_logout(setup, login, "bye-1")
    assert to_idp.status_code == 302
    location = to_idp.headers["location"]
    assert location.startswith(setup.idp.base_url + "/slo/redirect?") and "&Signature=" in location
    at_idp = setup.http.get(location)  # pysaml2 verifies the signature and answers with a signed redirect
    assert at_idp.status_code == 302, at_idp.text
    [received] = setup.idp.logout_requests
    assert received.name_id.text == EMAIL
    assert [i.text for i in received.session_index] == [recorded.session_index]
    back = at_idp.headers["location"]
    assert back.startswith(f"{setup.base}/sso/v1/saml/{setup.connection_id}/slo?SAMLResponse=")
    done = setup.http.get(back)
    assert done.status_code == 302, done.text
    assert done.headers["location"] == BYE + "?state=bye-1"
    assert _session(rt, login["sid"]).ended_time is not None
    # The access token the login issued is revoked: userinfo refuses it.
    userinfo = setup.http.get("/userinfo", headers={"Authorization": "Bearer " + login["access_token"]})
    assert userinfo.status_code == 401
    # The same LogoutResponse again is a replay.
    again = setup.http.get(back)
    assert again.status_code == 400 and "invalid_saml_response" in again.text
    # A second app logout finds the session ended: no second LogoutRequest, straight back to the app.
    second = _app_logout(setup, login, "bye-2")
    assert second.headers["location"] == BYE + "?state=bye-2"


def test_sp_initiated_logout_refused_by_pysaml2_is_an_invalid_status(redirect_setup: Setup) -> None:
    setup = redirect_setup
    setup.idp.logout_status = "the IdP could not log out every service"
    login = _login(setup)
    at_idp = setup.http.get(_app_logout(setup, login, "s").headers["location"])
    answer = setup.http.get(at_idp.headers["location"])
    assert answer.status_code == 400 and "invalid_status" in answer.text


def test_sp_initiated_logout_over_post_when_the_idp_offers_only_post(post_only_setup: Setup, rt: Runtime) -> None:
    setup = post_only_setup
    connection = setup.http.get(
        f"/api/v1/organizations/{setup.seed.organization_id}/connections/{setup.connection_id}",
        headers=_api(rt, setup),
    ).json()["connection"]
    assert connection["saml_config"]["idp_slo_request_binding"] == "HTTP_POST"
    login = _login(setup)
    page = _app_logout(setup, login, "bye-post")
    assert page.status_code == 200
    action, fields = posted_form(page.text)
    assert action == setup.idp.base_url + "/slo/post" and "SAMLRequest" in fields
    at_idp = setup.http.post(action, data=fields)  # pysaml2 verifies the enveloped signature
    assert at_idp.status_code == 200, at_idp.text
    assert setup.idp.logout_requests[0].name_id.text == EMAIL
    back_action, back_fields = posted_form(at_idp.text)
    assert back_action == f"{setup.base}/sso/v1/saml/{setup.connection_id}/slo"
    done = setup.http.post(back_action, data=back_fields)
    assert done.status_code == 302, done.text
    assert done.headers["location"] == BYE + "?state=bye-post"


@pytest.mark.parametrize("binding", [BINDING_HTTP_REDIRECT, BINDING_HTTP_POST])
def test_idp_initiated_logout(redirect_setup: Setup, rt: Runtime, binding: str) -> None:
    setup = redirect_setup
    login = _login(setup)
    recorded = _session(rt, login["sid"])
    slo = f"{setup.base}/sso/v1/saml/{setup.connection_id}/slo"
    sp_entity_id = f"{setup.base}/sso/v1/saml/{setup.connection_id}"
    info = setup.idp.start_logout(slo, sp_entity_id, recorded.session_index, binding, relay_state="idp-rs")
    if binding == BINDING_HTTP_REDIRECT:
        answer = setup.http.get(dict(info["headers"])["Location"])
    else:
        action, fields = posted_form(str(info["data"]))
        answer = setup.http.post(action, data=fields)
    assert answer.status_code == 302, answer.text
    to_idp = answer.headers["location"]
    assert to_idp.startswith(setup.idp.base_url + "/slo/redirect?SAMLResponse=") and "&Signature=" in to_idp
    assert query(to_idp)["RelayState"] == "idp-rs"
    assert setup.http.get(to_idp).status_code == 200  # pysaml2 read Entryway's LogoutResponse
    [response] = setup.idp.logout_responses
    assert response.response.status.status_code.value == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert _session(rt, login["sid"]).ended_time is not None
    userinfo = setup.http.get("/userinfo", headers={"Authorization": "Bearer " + login["access_token"]})
    assert userinfo.status_code == 401
    # The app logout that follows has nothing left to end at the IdP.
    assert _app_logout(setup, login, "s").headers["location"] == BYE + "?state=s"


def _api(rt: Runtime, setup: Setup) -> dict[str, str]:
    from tests.api.conftest import token_for

    return {"Authorization": "Bearer " + token_for(rt, setup.seed, ["*"])}


def test_metadata_publishes_the_sp_slo_endpoint(redirect_setup: Setup) -> None:
    setup = redirect_setup
    metadata = setup.http.get(f"/sso/v1/saml/{setup.connection_id}/metadata").text
    slo = f"{setup.base}/sso/v1/saml/{setup.connection_id}/slo"
    assert f'Binding="{BINDING_HTTP_REDIRECT}" Location="{slo}"' in metadata
    assert f'Binding="{BINDING_HTTP_POST}" Location="{slo}"' in metadata
    assert json.dumps(slo)
