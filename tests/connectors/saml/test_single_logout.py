"""SAML single logout at the SP SLO endpoint (issue 3 point 8), with a test IdP's key over both bindings.

SP-initiated: /oidc/logout sends the IdP a signed LogoutRequest for the recorded login, and the IdP's
LogoutResponse finishes the app's logout. IdP-initiated: a LogoutRequest ends the sessions it names and is
answered with a signed LogoutResponse. Every rejection is a 4xx page with its contract code, a recorded
diagnosis, and no change to stored data.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from lxml import etree
from signxml import XMLVerifier
from sqlalchemy import select

from entryway.clock import FrozenClock
from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.store.tables import events, saml_logouts, saml_sessions
from tests.connectors.support import CALLBACK, SamlWorld, make_world, query
from tests.support.saml_builder import build_response, encode, shared_key, sign_assertion
from tests.support.saml_logout import (
    RSA_SHA1,
    LogoutRequestFields,
    logout_request,
    logout_response,
    post_fields,
    read_signed_redirect,
    redirect_query,
)

IDP_SLO = "https://idp.test.example/saml/slo"
BYE = "http://localhost:3000/signed-out"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.fixture
def slo_world(rt: Runtime) -> Iterator[SamlWorld]:
    for world in make_world(rt, idp_slo_url=IDP_SLO, idp_slo_request_binding="HTTP_REDIRECT"):
        with rt.engine.begin() as conn:
            environments.add_redirect_uri(rt, conn, world.seed.environment, RedirectKind.POST_LOGOUT, BYE)
        yield world


def clock(world: SamlWorld) -> FrozenClock:
    assert isinstance(world.rt.clock, FrozenClock)
    return world.rt.clock


def slo_path(world: SamlWorld) -> str:
    return f"/sso/v1/saml/{world.connection.id}/slo"


def slo_url(world: SamlWorld) -> str:
    return world.connection.saml_config["sp_entity_id"] + "/slo"


def sp_certificate(world: SamlWorld) -> str:
    pem = world.rt.keyring.active(world.env_id, "saml_sp").certificate_pem
    assert pem
    return pem


def login(world: SamlWorld, session_index: str = "idp-session-1") -> dict[str, Any]:
    """A completed login through the ACS and its token exchange: the ID token and the session it names."""
    request, upstream = world.new_login()
    fields = world.fields(upstream, session_index=session_index)
    answer = world.post(encode(sign_assertion(build_response(fields), world.idp)), request.id)
    code = query(answer.headers["location"])["code"]
    tokens = world.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": world.seed.client_id,
            "client_secret": world.seed.plain_secret,
        },
    ).json()
    payload = tokens["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {"id_token": tokens["id_token"], "access_token": tokens["access_token"], "sid": claims["sid"]}


def session_row(world: SamlWorld, sid: str) -> Any:
    with world.rt.engine.connect() as db:
        return db.execute(select(saml_sessions).where(saml_sessions.c.session_id == sid)).one()


def code_of(response: httpx.Response) -> str:
    match = re.search(r"Error code: <code>([a-z_]+)</code>", response.text)
    assert response.status_code == 400 and match, (response.status_code, response.text[:300])
    return match.group(1)


def last_failure(world: SamlWorld) -> Any:
    failure = world.failures()[-1]
    assert failure.step == "logout" and failure.diagnosis.get("wanted") is not None
    return failure


def event_data(world: SamlWorld, event_type: str) -> list[dict[str, Any]]:
    with world.rt.engine.connect() as db:
        rows = db.execute(select(events.c.data).where(events.c.type == event_type).order_by(events.c.id)).all()
    return [dict(r.data) for r in rows]


def userinfo_status(world: SamlWorld, access_token: str) -> int:
    return world.http.get("/userinfo", headers={"Authorization": "Bearer " + access_token}).status_code


# --- SP-initiated ---------------------------------------------------------------------------------------------


def start_logout(world: SamlWorld, signed_in: dict[str, Any], state: str = "bye-1") -> tuple[etree._Element, str]:
    answer = world.http.get(
        "/oidc/logout",
        params={"id_token_hint": signed_in["id_token"], "post_logout_redirect_uri": BYE, "state": state},
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(IDP_SLO + "?SAMLRequest=")
    request, params = read_signed_redirect(location, sp_certificate(world))
    return request, params["RelayState"]


def idp_answer(world: SamlWorld, request: etree._Element, relay_state: str | None, **overrides: Any) -> str:
    options: dict[str, Any] = {
        "issuer": world.connection.saml_config["idp_entity_id"],
        "destination": slo_url(world),
        "in_response_to": request.get("ID"),
        "now": world.rt.clock.now(),
    }
    options.update(overrides)
    key = options.pop("key", world.idp)
    return slo_path(world) + "?" + redirect_query("SAMLResponse", logout_response(**options), relay_state, key)


def test_sp_initiated_logout_names_the_login_and_finishes_at_the_app(slo_world: SamlWorld) -> None:
    world = slo_world
    signed_in = login(world, session_index="idp-session-7")
    request, relay_state = start_logout(world, signed_in)
    assert request.tag == f"{{{SAMLP}}}LogoutRequest" and request.get("Destination") == IDP_SLO
    assert request.findtext(f"{{{SAML}}}Issuer") == world.connection.saml_config["sp_entity_id"]
    name_id = request.find(f"{{{SAML}}}NameID")
    assert name_id is not None and name_id.text == "ada@example.com"
    assert name_id.get("Format") == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    assert request.findtext(f"{{{SAMLP}}}SessionIndex") == "idp-session-7"
    assert relay_state == request.get("ID")
    # The local session ended at once; the access token of the login no longer passes /userinfo.
    assert session_row(world, signed_in["sid"]).ended_time is not None
    assert userinfo_status(world, signed_in["access_token"]) == 401
    done = world.http.get(idp_answer(world, request, relay_state))
    assert done.status_code == 302 and done.headers["location"] == BYE + "?state=bye-1"


def test_post_binding_logout_request_carries_an_enveloped_signature(slo_world: SamlWorld) -> None:
    world = slo_world
    world.reconfigure(idp_slo_request_binding="HTTP_POST")
    signed_in = login(world)
    page = world.http.get("/oidc/logout", params={"id_token_hint": signed_in["id_token"]})
    assert page.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    xml = base64.b64decode(unescape(fields["SAMLRequest"]))
    verified = XMLVerifier().verify(xml, x509_cert=sp_certificate(world)).signed_xml
    assert verified is not None and verified.tag == f"{{{SAMLP}}}LogoutRequest"
    assert f'action="{IDP_SLO}"' in page.text


def test_no_slo_url_or_no_recorded_session_means_a_local_logout(slo_world: SamlWorld) -> None:
    world = slo_world
    signed_in = login(world)
    world.reconfigure(idp_slo_url=None)
    plain = world.http.get(
        "/oidc/logout", params={"id_token_hint": signed_in["id_token"], "post_logout_redirect_uri": BYE}
    )
    assert plain.headers["location"] == BYE
    world.reconfigure(idp_slo_url=IDP_SLO)
    clock(world).advance(hours=24, seconds=1)  # the session record has expired
    expired = world.http.get(
        "/oidc/logout", params={"id_token_hint": signed_in["id_token"], "post_logout_redirect_uri": BYE}
    )
    assert expired.headers["location"] == BYE


def _pending_status(world: SamlWorld, request_id: str) -> str:
    with world.rt.engine.connect() as db:
        return str(db.execute(select(saml_logouts.c.status).where(saml_logouts.c.id == request_id)).scalar_one())


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unsigned", "signature_validation_failed"),
        ("another_key", "signature_validation_failed"),
        ("altered_after_signing", "signature_validation_failed"),
        ("wrong_issuer", "invalid_saml_response"),
        ("wrong_destination", "invalid_saml_response"),
        ("unknown_in_response_to", "invalid_saml_response"),
        ("no_in_response_to", "invalid_saml_response"),
        ("other_relay_state", "invalid_saml_response"),
        ("failure_status", "invalid_status"),
        ("too_late", "response_expired"),
    ],
)
def test_logout_response_rejections(slo_world: SamlWorld, case: str, code: str) -> None:
    world = slo_world
    request, relay_state = start_logout(world, login(world))
    overrides: dict[str, Any] = {
        "unsigned": {"key": None},
        "another_key": {"key": shared_key("attacker")},
        "wrong_issuer": {"issuer": "https://evil.example/idp"},
        "wrong_destination": {"destination": "https://sp.example/other/slo"},
        "unknown_in_response_to": {"in_response_to": "_not_a_request_entryway_sent"},
        "no_in_response_to": {"in_response_to": None},
        "failure_status": {"status": "urn:oasis:names:tc:SAML:2.0:status:Responder"},
    }.get(case, {})
    url = idp_answer(world, request, "_another" if case == "other_relay_state" else relay_state, **overrides)
    if case == "altered_after_signing":
        url = url.replace(f"RelayState={quote_plus(relay_state)}", "RelayState=_changed")
    if case == "too_late":
        clock(world).advance(minutes=10)
    refused = world.http.get(url)
    assert code_of(refused) == code
    failure = last_failure(world)
    assert failure.error_code == code
    if case == "failure_status":
        assert failure.diagnosis["status_code"] == "urn:oasis:names:tc:SAML:2.0:status:Responder"
        assert failure.diagnosis["sub_status_code"] == "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
    if case in ("unsigned", "another_key", "altered_after_signing", "wrong_issuer", "unknown_in_response_to"):
        # Nothing the IdP did not sign, or did not send for this logout, changes the pending logout.
        assert _pending_status(world, relay_state) == "pending"
        assert world.http.get(idp_answer(world, request, relay_state)).headers["location"] == BYE + "?state=bye-1"


def test_a_logout_response_is_accepted_once(slo_world: SamlWorld) -> None:
    world = slo_world
    request, relay_state = start_logout(world, login(world))
    url = idp_answer(world, request, relay_state)
    assert world.http.get(url).status_code == 302
    assert code_of(world.http.get(url)) == "invalid_saml_response"
    assert "replay" in last_failure(world).diagnosis["got"]


def test_a_logout_response_over_post_must_be_signed(slo_world: SamlWorld) -> None:
    world = slo_world
    request, relay_state = start_logout(world, login(world))
    message = logout_response(
        issuer=world.connection.saml_config["idp_entity_id"],
        destination=slo_url(world),
        in_response_to=request.get("ID"),
        now=world.rt.clock.now(),
    )
    unsigned = world.http.post(slo_path(world), data=post_fields("SAMLResponse", message, relay_state, None))
    assert code_of(unsigned) == "signature_validation_failed"
    signed = world.http.post(slo_path(world), data=post_fields("SAMLResponse", message, relay_state, world.idp))
    assert signed.status_code == 302 and signed.headers["location"] == BYE + "?state=bye-1"


# --- IdP-initiated --------------------------------------------------------------------------------------------


def idp_request(world: SamlWorld, **overrides: Any) -> LogoutRequestFields:
    options: dict[str, Any] = {
        "issuer": world.connection.saml_config["idp_entity_id"],
        "destination": slo_url(world),
        "now": world.rt.clock.now(),
    }
    options.update(overrides)
    return LogoutRequestFields(**options)


def send_request(
    world: SamlWorld, fields: LogoutRequestFields, *, key: Any = "idp", relay_state: str | None = "rs-1", **kw: Any
) -> httpx.Response:
    signer = world.idp if key == "idp" else key
    return world.http.get(
        slo_path(world) + "?" + redirect_query("SAMLRequest", logout_request(fields), relay_state, signer, **kw)
    )


def test_idp_initiated_logout_ends_the_named_session_and_answers_signed(slo_world: SamlWorld) -> None:
    world = slo_world
    first, other = login(world, session_index="s-1"), login(world, session_index="s-2")
    fields = idp_request(world, session_indexes=["s-1"])
    answer = send_request(world, fields)
    assert answer.status_code == 302, answer.text
    response, params = read_signed_redirect(answer.headers["location"], sp_certificate(world))
    assert answer.headers["location"].startswith(IDP_SLO + "?SAMLResponse=")
    assert params["RelayState"] == "rs-1"
    assert response.get("InResponseTo") == fields.request_id and response.get("Destination") == IDP_SLO
    status = response.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    assert status is not None and status.get("Value") == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert session_row(world, first["sid"]).ended_time is not None
    assert session_row(world, other["sid"]).ended_time is None  # another SessionIndex: not this session
    assert userinfo_status(world, first["access_token"]) == 401
    assert userinfo_status(world, other["access_token"]) == 200
    # The app's back-channel: a webhook event naming the sid of each login that ended.
    assert [e["diagnosis"]["sessions_ended"] for e in event_data(world, "sso.idp_logout")] == [[first["sid"]]]
    # Without a SessionIndex, every session of the NameID on this connection ends.
    assert send_request(world, idp_request(world)).status_code == 302
    assert session_row(world, other["sid"]).ended_time is not None


def test_idp_initiated_logout_over_post_is_answered_over_the_idps_binding(slo_world: SamlWorld) -> None:
    world = slo_world
    world.reconfigure(idp_slo_request_binding="HTTP_POST")
    signed_in = login(world)
    fields = idp_request(world)
    answer = world.http.post(slo_path(world), data=post_fields("SAMLRequest", logout_request(fields), None, world.idp))
    assert answer.status_code == 200 and f'action="{IDP_SLO}"' in answer.text
    posted = dict(re.findall(r'name="(\w+)" value="([^"]*)"', answer.text))
    verified = XMLVerifier().verify(base64.b64decode(unescape(posted["SAMLResponse"])), x509_cert=sp_certificate(world))
    assert verified.signed_xml is not None and verified.signed_xml.get("InResponseTo") == fields.request_id
    assert session_row(world, signed_in["sid"]).ended_time is not None


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unsigned", "signature_validation_failed"),
        ("unsigned_post", "signature_validation_failed"),
        ("another_key", "signature_validation_failed"),
        ("altered_after_signing", "signature_validation_failed"),
        ("sha1", "signature_validation_failed"),
        ("wrong_issuer", "invalid_saml_response"),
        ("wrong_destination", "invalid_saml_response"),
        ("no_destination", "invalid_saml_response"),
        ("expired", "response_expired"),
        ("issued_long_ago", "response_expired"),
        ("issued_in_the_future", "response_expired"),
        ("two_name_ids", "invalid_saml_response"),
        ("no_slo_url_to_answer", "invalid_saml_metadata"),
    ],
)
def test_logout_request_rejections(slo_world: SamlWorld, case: str, code: str) -> None:
    world = slo_world
    signed_in = login(world)
    now = world.rt.clock.now()
    overrides: dict[str, Any] = {
        "wrong_issuer": {"issuer": "https://evil.example/idp"},
        "wrong_destination": {"destination": "https://sp.example/other/slo"},
        "no_destination": {"destination": None},
        "expired": {"not_on_or_after": now - timedelta(minutes=3)},
        "issued_long_ago": {"issue_instant": now - timedelta(minutes=15), "not_on_or_after": now + timedelta(hours=1)},
        "issued_in_the_future": {"issue_instant": now + timedelta(minutes=5)},
        "two_name_ids": {"extra_name_id": True},
    }.get(case, {})
    fields = idp_request(world, **overrides)
    if case == "no_slo_url_to_answer":
        world.reconfigure(idp_slo_url=None)
    if case == "unsigned_post":
        refused = world.http.post(slo_path(world), data=post_fields("SAMLRequest", logout_request(fields), None, None))
    elif case == "altered_after_signing":
        url = slo_path(world) + "?" + redirect_query("SAMLRequest", logout_request(fields), "rs-1", world.idp)
        refused = world.http.get(url.replace("RelayState=rs-1", "RelayState=rs-2"))
    else:
        key = {"unsigned": None, "another_key": shared_key("attacker")}.get(case, "idp")
        refused = send_request(world, fields, key=key, **({"sig_alg": RSA_SHA1} if case == "sha1" else {}))
    assert code_of(refused) == code
    assert last_failure(world).error_code == code
    assert event_data(world, "sso.login_failed") == event_data(world, "sso.idp_logout") == []  # not a login
    # A refused request ends nothing.
    assert session_row(world, signed_in["sid"]).ended_time is None
    assert userinfo_status(world, signed_in["access_token"]) == 200


def test_a_logout_request_is_processed_once(slo_world: SamlWorld) -> None:
    world = slo_world
    login(world)
    fields = idp_request(world)
    assert send_request(world, fields).status_code == 302
    assert code_of(send_request(world, fields)) == "invalid_saml_response"
    assert "replay" in last_failure(world).diagnosis["got"]


def test_malformed_and_unknown_input_is_refused_without_a_server_error(slo_world: SamlWorld) -> None:
    world = slo_world
    assert code_of(world.http.get(slo_path(world))) == "malformed_saml_response"
    assert code_of(world.http.get(slo_path(world) + "?SAMLRequest=%%%")) == "signature_validation_failed"
    both = world.http.get(slo_path(world) + "?SAMLRequest=a&SAMLResponse=b")
    assert code_of(both) == "malformed_saml_response"
    assert code_of(world.http.get("/sso/v1/saml/conn_nope/slo?SAMLRequest=a")) == "invalid_connection_id"
    post = world.http.post(slo_path(world), content=b"<xml/>", headers={"content-type": "text/xml"})
    assert code_of(post) == "malformed_saml_response"
    bomb = world.http.post(slo_path(world), data={"SAMLRequest": "not base64!"})
    assert code_of(bomb) == "malformed_saml_response"


def test_sp_metadata_publishes_the_slo_endpoint_on_both_bindings(slo_world: SamlWorld) -> None:
    world = slo_world
    root = etree.fromstring(world.http.get(f"/sso/v1/saml/{world.connection.id}/metadata").content)
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    services = root.findall(f".//{{{md}}}SingleLogoutService")
    assert {(s.get("Binding"), s.get("Location")) for s in services} == {
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", slo_url(world)),
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", slo_url(world)),
    }
