"""The portal's "test connection": a real SAML login through a disabled connection that ends on a portal page
with the profile (or the diagnosis), never in the app; and the mapping preview against it."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from entryway.services import connections
from entryway.services.logins import PORTAL_TEST_CLIENT
from entryway.store.after_commit import transaction
from entryway.store.tables import auth_codes, auth_requests
from tests.portal.conftest import Portal
from tests.portal.test_portal_pages import IDP_ENTITY, _metadata, _new_connection
from tests.support.saml_builder import ResponseFields, build_response, encode, shared_key, sign_assertion


def _ready_connection(portal: Portal) -> str:
    connection_id = _new_connection(portal, "saml:generic")
    saved = portal.post(
        f"/portal/connections/{connection_id}/idp",
        {"source": "xml", "idp_metadata_xml": _metadata().decode(), "action": "save"},
    )
    assert saved.status_code == 303
    return connection_id


def _start(portal: Portal, connection_id: str) -> str:
    page = portal.browser.get(f"/portal/connections/{connection_id}")
    link = page.text.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    started = portal.browser.get(link)
    assert started.status_code in (302, 303) and started.headers["location"].startswith("https://idp.acme.test/sso")
    with portal.rt.engine.connect() as conn:
        return (
            conn.execute(
                select(auth_requests.c.upstream_request_id)
                .where(auth_requests.c.client_id == PORTAL_TEST_CLIENT)
                .order_by(auth_requests.c.create_time.desc())
            )
            .scalars()
            .first()
        )


def _answer(portal: Portal, connection_id: str, in_response_to: str, **fields) -> httpx.Response:
    with portal.rt.engine.connect() as conn:
        connection = connections.get_connection(conn, portal.seed.environment.id, connection_id)
        relay = conn.execute(
            select(auth_requests.c.id).where(auth_requests.c.upstream_request_id == in_response_to)
        ).scalar_one()
    config = connection.saml_config
    response = build_response(
        ResponseFields(
            idp_entity_id=IDP_ENTITY,
            sp_entity_id=config["sp_entity_id"],
            acs_url=config["sp_assertion_url"],
            now=portal.rt.clock.now(),
            in_response_to=in_response_to,
            **fields,
        )
    )
    posted = portal.browser.post(
        urlsplit(config["sp_assertion_url"]).path,
        data={"SAMLResponse": encode(sign_assertion(response, shared_key("idp"))), "RelayState": relay},
    )
    assert posted.status_code == 302, posted.text
    target = posted.headers["location"]
    assert target.startswith(f"http://localhost:8000/portal/connections/{connection_id}/test/result?")
    return portal.browser.get(urlsplit(target).path + "?" + urlsplit(target).query)


def test_a_successful_test_shows_the_profile_and_never_reaches_the_app(portal: Portal) -> None:
    connection_id = _ready_connection(portal)
    result = _answer(
        portal,
        connection_id,
        _start(portal, connection_id),
        attributes={"email": ["ada@acme.test"], "firstName": ["Ada"], "department": ["Engines"]},
    )
    assert result.status_code == 200 and "The test sign-in worked" in result.text
    assert "ada@acme.test" in result.text and "Engines" in result.text  # unmapped attributes are shown too
    # the code went to the portal page and was spent there; no app client can redeem such a code
    with portal.rt.engine.connect() as conn:
        used = conn.execute(
            select(auth_codes.c.used_time).where(auth_codes.c.client_id == PORTAL_TEST_CLIENT)
        ).scalar_one()
    assert used is not None
    token = portal.browser.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": PORTAL_TEST_CLIENT,
            "client_secret": "x",
            "redirect_uri": "x",
        },
    )
    assert token.status_code == 401
    assert not connections.get_connection(portal.rt.engine.connect(), portal.seed.environment.id, connection_id).enabled
    page = portal.browser.get(f"/portal/connections/{connection_id}")
    assert "Succeeded" in page.text
    # the mapping editor previews against this login: map "department" to a custom field
    token_value = portal.csrf(page)
    fields = ["email", "given_name", "family_name", "name", "preferred_username", "groups", "dept"]
    attributes = ["email", "firstName", "lastName", "name", "", "groups", "department"]
    preview = portal.browser.post(
        f"/portal/connections/{connection_id}/mapping",
        data={"csrf_token": token_value, "action": "preview", "field": fields, "attribute": attributes},
    )
    assert preview.status_code == 200 and "gives this profile" in preview.text
    assert '<th scope="row">dept</th><td>Engines</td>' in preview.text
    broken = portal.browser.post(
        f"/portal/connections/{connection_id}/mapping",
        data={"csrf_token": token_value, "action": "preview", "field": fields, "attribute": ["mail", *attributes[1:]]},
    )
    assert "would refuse the sign-in" in broken.text and "mail" in broken.text
    saved = portal.browser.post(
        f"/portal/connections/{connection_id}/mapping",
        data={"csrf_token": token_value, "action": "save", "field": fields, "attribute": attributes},
    )
    assert saved.status_code == 303
    with portal.rt.engine.connect() as conn:
        mapping = connections.get_connection(conn, portal.seed.environment.id, connection_id).attribute_mapping
    assert mapping["dept"] == "department" and "preferred_username" not in mapping


def test_a_failed_test_shows_the_diagnosis(portal: Portal) -> None:
    connection_id = _ready_connection(portal)
    result = _answer(portal, connection_id, _start(portal, connection_id), audience="https://wrong.example/sp")
    assert result.status_code == 200 and "The test sign-in failed" in result.text
    assert "invalid_saml_response" in result.text and "https://wrong.example/sp" in result.text
    assert 'id="diagnosis"' in result.text and "err_" in result.text
    assert "Failed" in portal.browser.get(f"/portal/connections/{connection_id}").text


def test_a_stale_result_link_shows_nothing(portal: Portal) -> None:
    connection_id = _ready_connection(portal)
    _start(portal, connection_id)
    stale = portal.browser.get(f"/portal/connections/{connection_id}/test/result?code=abc&state=old")
    assert "No result to show" in stale.text


def test_a_disabled_connection_still_refuses_app_logins_dressed_as_tests(portal: Portal) -> None:
    """RelayState naming a portal test only lets the response be read; the signed InResponseTo decides."""
    from entryway.services import logins

    connection_id = _ready_connection(portal)
    test_upstream = _start(portal, connection_id)
    with transaction(portal.rt.engine) as conn:
        connection = connections.get_connection(conn, portal.seed.environment.id, connection_id)
        app_request = logins.create_auth_request(
            portal.rt,
            conn,
            env=portal.seed.environment,
            client_id=portal.seed.client_id,
            redirect_uri="http://localhost:3000/callback",
            scope="openid",
            state="s",
            nonce=None,
            code_challenge=None,
            code_challenge_method=None,
            connection=connection,
            login_hint=None,
            upstream_request_id="_app-upstream-1",
        )
        test_relay = conn.execute(
            select(auth_requests.c.id).where(auth_requests.c.upstream_request_id == test_upstream)
        ).scalar_one()
    config = connection.saml_config
    response = build_response(
        ResponseFields(
            idp_entity_id=IDP_ENTITY,
            sp_entity_id=config["sp_entity_id"],
            acs_url=config["sp_assertion_url"],
            now=portal.rt.clock.now(),
            in_response_to="_app-upstream-1",
        )
    )
    encoded = encode(sign_assertion(response, shared_key("idp")))
    acs = urlsplit(config["sp_assertion_url"]).path
    honest = portal.browser.post(acs, data={"SAMLResponse": encoded, "RelayState": app_request.id})
    assert honest.status_code == 400 and "connection_not_active" in honest.text
    dressed = portal.browser.post(acs, data={"SAMLResponse": encoded, "RelayState": test_relay})
    assert dressed.status_code == 400 and "invalid_saml_response" in dressed.text
    with portal.rt.engine.connect() as conn:
        assert (
            conn.execute(select(auth_codes.c.code_hash).where(auth_codes.c.auth_request_id == app_request.id)).first()
            is None
        )
