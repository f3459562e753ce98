"""The admin portal's pages over HTTP: choosing an IdP, live checks, saving, enabling, framing and CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.services import connections, organizations
from entryway.store.tables import connections as connections_table
from entryway.web.sessions import SessionKind, audit_events
from tests.portal.conftest import APP_ORIGIN, Portal, open_portal
from tests.support.saml_builder import IdpKey, shared_key
from tests.support.saml_http import serving
from tests.support.saml_metadata import POST, REDIRECT, IdpMetadataFields, idp_metadata, sp_metadata

IDP_ENTITY = "https://idp.acme.test/saml"


def _metadata(key: IdpKey | None = None) -> bytes:
    fields = IdpMetadataFields(
        IDP_ENTITY,
        {REDIRECT: "https://idp.acme.test/sso", POST: "https://idp.acme.test/sso"},
        [key or shared_key("idp")],
    )
    return idp_metadata(fields)


def _expired_key() -> IdpKey:
    base = shared_key("idp")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Expired IdP")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(base.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2015, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime.now(UTC) - timedelta(days=3))
        .sign(base.private_key, hashes.SHA256())
    )
    return IdpKey(base.private_key, cert)


def _new_connection(portal: Portal, choice: str = "saml:okta") -> str:
    created = portal.post("/portal/connections", {"choice": choice})
    assert created.status_code == 303, created.text
    return created.headers["location"].rsplit("/", 1)[1]


def _stored(portal: Portal, connection_id: str):
    with portal.rt.engine.connect() as conn:
        return connections.get_connection(conn, portal.seed.environment.id, connection_id)


def test_home_lists_nothing_and_the_picker_shows_every_preset(portal: Portal) -> None:
    home = portal.browser.get("/portal")
    assert home.status_code == 200 and "Acme Corp" in home.text and "No connection yet" in home.text
    picker = portal.browser.get("/portal/connections/new")
    for name in ("Okta", "Microsoft Entra ID", "Google Workspace", "Shibboleth IdP", "Generic OpenID Connect"):
        assert name in picker.text
    assert picker.text.count('type="radio"') >= 15 and "<svg" in picker.text
    unpicked = portal.post("/portal/connections", {})
    assert unpicked.status_code == 400 and "Pick your identity provider" in unpicked.text


def test_connection_page_shows_the_guide_and_the_values_to_copy(portal: Portal) -> None:
    connection_id = _new_connection(portal, "saml:entra-id")
    page = portal.browser.get(f"/portal/connections/{connection_id}")
    assert page.status_code == 200
    stored = _stored(portal, connection_id)
    assert stored.provider.value == "MICROSOFT_AD" and not stored.enabled
    assert stored.saml_config["sp_entity_id"] in page.text and stored.saml_config["sp_assertion_url"] in page.text
    assert "Reply URL (Assertion Consumer Service URL)" in page.text  # the vendor's own label
    assert f'/sso/v1/saml/{connection_id}/metadata" download' in page.text
    assert "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" in page.text  # preset mapping


def test_check_reads_good_metadata_without_saving_then_save_stores_it(portal: Portal) -> None:
    connection_id = _new_connection(portal)
    with serving() as served:
        url = served.put("/metadata.xml", _metadata())
        checked = portal.post(
            f"/portal/connections/{connection_id}/idp", {"source": "url", "idp_metadata_url": url, "action": "check"}
        )
        assert checked.status_code == 200 and "Check passed" in checked.text
        assert IDP_ENTITY in checked.text and "RSA 2048 bits" in checked.text and "SHA256" in checked.text
        assert _stored(portal, connection_id).saml_config.get("idp_entity_id") is None  # a check saves nothing
        saved = portal.post(
            f"/portal/connections/{connection_id}/idp", {"source": "url", "idp_metadata_url": url, "action": "save"}
        )
    assert saved.status_code == 303
    stored = _stored(portal, connection_id)
    assert stored.saml_config["idp_entity_id"] == IDP_ENTITY and stored.saml_config["idp_metadata_url"] == url
    assert "Saved." in portal.browser.get(saved.headers["location"]).text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"this is not xml", "not"),
        (
            sp_metadata("https://app.example/sp", "https://app.example/acs", shared_key("idp")),
            "service provider (SP) metadata",
        ),
        (None, "expired on"),
    ],
)
def test_bad_metadata_gets_an_actionable_message_and_changes_nothing(
    portal: Portal, document: bytes | None, message: str
) -> None:
    connection_id = _new_connection(portal)
    good = portal.post(
        f"/portal/connections/{connection_id}/idp",
        {"source": "xml", "idp_metadata_xml": _metadata().decode(), "action": "save"},
    )
    assert good.status_code == 303
    before = _stored(portal, connection_id)
    text = (document if document is not None else _metadata(_expired_key())).decode()
    for action in ("check", "save"):
        refused = portal.post(
            f"/portal/connections/{connection_id}/idp", {"source": "xml", "idp_metadata_xml": text, "action": action}
        )
        assert refused.status_code == (400 if action == "save" else 200)
        assert "Not saved: fix these first" in refused.text and message in refused.text
    assert _stored(portal, connection_id).saml_config == before.saml_config


def test_uploaded_file_and_unreachable_url(portal: Portal) -> None:
    connection_id = _new_connection(portal)
    token = portal.csrf(portal.browser.get("/portal"))
    uploaded = portal.browser.post(
        f"/portal/connections/{connection_id}/idp",
        data={"csrf_token": token, "source": "file", "action": "save"},
        files={"idp_metadata_file": ("okta.xml", _metadata(), "text/xml")},
    )
    assert uploaded.status_code == 303 and _stored(portal, connection_id).saml_config["idp_entity_id"] == IDP_ENTITY
    unreachable = portal.post(
        f"/portal/connections/{connection_id}/idp",
        {"source": "url", "idp_metadata_url": "http://127.0.0.1:9/md", "action": "check"},
    )
    assert "Not saved" in unreachable.text and "cannot be fetched" in unreachable.text


def test_manual_values_with_a_weak_certificate_are_refused(portal: Portal) -> None:
    connection_id = _new_connection(portal, "saml:generic")
    refused = portal.post(
        f"/portal/connections/{connection_id}/idp",
        {
            "source": "manual",
            "idp_entity_id": IDP_ENTITY,
            "idp_sso_url": "https://idp.acme.test/sso",
            "idp_certificate": _expired_key().certificate_pem,
            "action": "save",
        },
    )
    assert refused.status_code == 400 and "expired on" in refused.text
    assert _stored(portal, connection_id).saml_config.get("idp_entity_id") is None


def test_enable_posts_the_ui_event_and_is_audited(portal: Portal) -> None:
    connection_id = _new_connection(portal)
    refused = portal.post(f"/portal/connections/{connection_id}/enable")
    assert refused.status_code == 400 and "cannot be enabled until it has" in refused.text
    portal.post(
        f"/portal/connections/{connection_id}/idp",
        {"source": "xml", "idp_metadata_xml": _metadata().decode(), "action": "save"},
    )
    enabled = portal.post(f"/portal/connections/{connection_id}/enable")
    assert enabled.status_code == 303 and _stored(portal, connection_id).enabled
    page = portal.browser.get(enabled.headers["location"])
    data = portal.portal_data(page)
    assert data["origins"] == [APP_ORIGIN]  # the wildcard origin frames, but is no postMessage target
    assert [e["type"] for e in data["events"]] == ["ORGANIZATION_SSO_ENABLED"]
    assert data["events"][0]["data"]["connection_id"] == connection_id
    assert portal.portal_data(portal.browser.get(f"/portal/connections/{connection_id}"))["events"] == []
    disabled = portal.post(f"/portal/connections/{connection_id}/disable")
    events = portal.portal_data(portal.browser.get(disabled.headers["location"]))["events"]
    assert [e["type"] for e in events] == ["ORGANIZATION_SSO_DISABLED"]
    with portal.rt.engine.connect() as conn:
        actions = [
            e.action
            for e in audit_events(conn, portal.seed.environment.id, kind=SessionKind.PORTAL, subject=portal.org_id)
        ]
    assert actions[:4] == ["connection.disabled", "connection.enabled", "connection.configured", "connection.created"]


def test_posts_without_the_csrf_token_change_nothing(portal: Portal) -> None:
    connection_id = _new_connection(portal)
    portal.post(
        f"/portal/connections/{connection_id}/idp",
        {"source": "xml", "idp_metadata_xml": _metadata().decode(), "action": "save"},
    )
    for data in ({}, {"csrf_token": "forged"}):
        refused = portal.browser.post(f"/portal/connections/{connection_id}/enable", data=data)
        assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert not _stored(portal, connection_id).enabled
    test_link = portal.browser.get(f"/portal/connections/{connection_id}/test?csrf=forged")
    assert test_link.status_code == 403


def test_a_session_reaches_its_own_organization_only(portal: Portal) -> None:
    with portal.rt.engine.begin() as conn:
        other = organizations.create_organization(portal.rt, conn, portal.seed.environment.id, display_name="Other Co")
    with open_portal(portal.rt, portal.seed, other.id) as intruder:
        token = portal.csrf(intruder.get("/portal"))
        intruder.post("/portal/connections", data={"csrf_token": token, "choice": "saml:okta"})
    with portal.rt.engine.connect() as conn:
        foreign = conn.execute(
            select(connections_table.c.id).where(connections_table.c.organization_id == other.id)
        ).scalar_one()
    assert portal.browser.get(f"/portal/connections/{foreign}").status_code == 404
    assert portal.post(f"/portal/connections/{foreign}/enable").status_code == 404
    assert portal.post(f"/portal/connections/{foreign}/delete").status_code == 404


def test_framing_is_limited_to_registered_app_origins(portal: Portal) -> None:
    page = portal.browser.get("/portal")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' http://localhost:3000 https://*.acme.test;" in csp
    assert "x-frame-options" not in page.headers
    other = portal.browser.get("/oauth/authorize")  # every other page stays unframeable
    assert "frame-ancestors 'none'" in other.headers["content-security-policy"]


def test_without_a_session_the_portal_says_what_to_do(rt: Runtime, portal: Portal) -> None:
    from fastapi.testclient import TestClient

    from entryway.app import create_app

    stranger = TestClient(create_app(rt), base_url="http://localhost:8000")
    page = stranger.get("/portal")
    assert page.status_code == 401 and "session_missing" in page.text and "portal link" in page.text
    signed_out = portal.post("/portal/signout")
    assert signed_out.status_code == 200
    assert portal.browser.get("/portal").status_code == 401
