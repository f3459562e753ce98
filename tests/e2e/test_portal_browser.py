"""The admin portal in a real browser (Chromium via Playwright) against a real server on a loopback port.

An IT admin opens a portal link, sets up a connection to a real local IdP (pysaml2's IdP for SAML, npm
oidc-provider for OIDC), tests it, turns it on, verifies the domain by DNS TXT — and a user then logs in to the
app through it. Framing from a registered app origin works and gets the UI events; from any other origin the
browser refuses to render the portal.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import DevSeed, seed_development
from tests.api.conftest import token_for
from tests.api.fake_dns import DnsServer
from tests.api.fake_dns import dns_server as running_dns
from tests.e2e.browser import chromium, shoot
from tests.interop.oidc_node.conftest import node_op
from tests.interop.saml_pysaml2.idp import running_idp
from tests.support.server import free_port, running_server

pytestmark = pytest.mark.e2e

PYSAML2_IDENTITY = {
    "mail": ["ada@acme.test"],
    "givenName": ["Ada"],
    "sn": ["Lovelace"],
    "eduPersonAffiliation": ["staff"],
}


@dataclass
class World:
    rt: Runtime
    base: str
    seed: DevSeed
    org_id: str
    api: httpx.Client
    browser: Browser
    dns: DnsServer
    app: str  # the app's origin, registered through its callback URL
    stranger: str  # an origin the environment never registered

    @property
    def callback(self) -> str:
        return self.app + "/callback"

    def portal_link(self, link_type: str) -> str:
        made = self.api.put(f"/api/v1/organizations/{self.org_id}/portal_links", json={"link_type": link_type})
        assert made.status_code == 200, made.text
        return str(made.json()["link"]["location"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def world(rt: Runtime, browser: Browser) -> Iterator[World]:
    with running_dns() as dns, app_server() as app, app_server() as stranger:
        # the IdPs and the app are on loopback; DNS answers come from the test's own server
        rt.settings = replace(rt.settings, allow_private_fetch=True, dns_nameserver=dns.address)
        port = free_port()
        seed = seed_development(rt, f"http://127.0.0.1:{port}", app + "/callback")
        with rt.engine.begin() as conn:
            org = organizations.create_organization(rt, conn, seed.environment.id, display_name="Acme Corp")
        with running_server(rt, port) as base, httpx.Client(base_url=base, timeout=30) as api:
            api.headers["Authorization"] = "Bearer " + token_for(rt, seed, ["*"])
            yield World(rt, base, seed, org.id, api, browser, dns, app, stranger)


def _app_page(path: str) -> str:
    """The app's own pages: its callback, and a settings page that frames the URL in its `frame` query."""
    frame = parse_qs(urlsplit(path).query).get("frame", [""])[0]
    if not frame:
        return "<!doctype html><title>App callback</title><h1>Signed in</h1>"
    return (
        "<!doctype html><title>App</title><h1>App settings</h1>"
        f'<iframe id="portal" src="{html.escape(frame)}" title="Single sign-on" style="width:100%;height:600px">'
        "</iframe>"
        "<script>window.received=[];window.addEventListener('message',e=>window.received.push("
        "{origin:e.origin,type:e.data&&e.data.type,data:e.data&&e.data.data}));</script>"
    )


@contextmanager
def app_server() -> Iterator[str]:
    """A real HTTP origin for the app (the browser must reach it: redirects to it are not interceptable)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _app_page(self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _new_page(world: World) -> Page:
    context = world.browser.new_context(viewport={"width": 1280, "height": 900})
    return context.new_page()


def _choose(page: Page, name: str, protocol: str) -> None:
    page.get_by_role("link", name="Add a connection").click()
    expect(page.get_by_role("heading", name="Which identity provider do you use?")).to_be_visible()
    shoot(page, "portal-choose")
    page.get_by_role("group", name=protocol).get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def _verify_domain(world: World, page: Page, domain: str) -> None:
    page.goto(world.base + "/portal")
    page.get_by_label("Add a domain").fill(domain)
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("Domain added")).to_be_visible()
    name = page.get_by_label("Name").input_value()
    value = page.get_by_label("Value").input_value()
    world.dns.txt[name.rstrip(".").lower()] = [value]
    page.get_by_role("button", name=f"Verify {domain}").click()
    expect(page.get_by_text("Domain verified.")).to_be_visible()
    shoot(page, "portal-home-verified")


def _user_logs_in(world: World, login_hint: str, through_idp: Any) -> dict[str, Any]:
    """A user of the organization signs in to the app: authorize → the IdP → Entryway → the app's callback."""
    page = _new_page(world)
    state = secrets.token_urlsafe(8)
    query = {
        "response_type": "code",
        "client_id": world.seed.client_id,
        "redirect_uri": world.callback,
        "scope": "openid email profile",
        "state": state,
        "login_hint": login_hint,
    }
    page.goto(world.base + "/oauth/authorize?" + urlencode(query))
    through_idp(page)
    page.wait_for_url(world.callback + "?**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert params["state"] == state and "code" in params, page.url
    page.context.close()
    assert world.seed.plain_secret is not None
    tokens = httpx.post(
        world.base + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": world.callback,
            "client_id": world.seed.client_id,
            "client_secret": world.seed.plain_secret,
        },
    )
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]
    key = jwt.PyJWKClient(world.base + "/keys").get_signing_key_from_jwt(id_token)
    claims: dict[str, Any] = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=world.seed.client_id)
    return claims


def test_an_admin_sets_up_saml_and_a_user_logs_in(world: World, tmp_path: Path) -> None:
    page = _new_page(world)
    page.goto(world.portal_link("SHAREABLE"))
    expect(page.get_by_role("heading", name="Set up single sign-on for Acme Corp")).to_be_visible()
    shoot(page, "portal-home")
    _choose(page, "Generic SAML 2.0 IdP", "SAML 2.0")
    sp_metadata_url = page.get_by_label("SP metadata URL").input_value()
    assert page.get_by_label("SP entity ID (audience)").input_value().startswith(world.base + "/sso/v1/saml/conn_")
    sp_metadata = httpx.get(sp_metadata_url).text  # what the IT admin gives the IdP
    with running_idp(tmp_path, sp_metadata, PYSAML2_IDENTITY, "ada@acme.test") as idp:
        # a mistake first: Entryway's own SP metadata pasted where the IdP's belongs
        page.get_by_text("Paste the metadata XML").click()
        page.get_by_label("Metadata XML", exact=True).fill(sp_metadata)
        page.locator("form:has(#idp_metadata_xml)").get_by_role("button", name="Check", exact=True).click()
        expect(page.get_by_text("this is service provider (SP) metadata")).to_be_visible()
        page.get_by_text("Metadata URL", exact=True).click()
        page.locator("#idp_metadata_url").fill(idp.entity_id)
        page.locator("form:has(#idp_metadata_url)").get_by_role("button", name="Check", exact=True).click()
        expect(page.get_by_text("Check passed")).to_be_visible()
        expect(page.locator("#check-report + table, #check-report ~ table").first).to_contain_text(idp.entity_id)
        shoot(page, "portal-saml-check")
        page.locator("form:has(#idp_metadata_url)").get_by_role("button", name="Check and save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        shoot(page, "portal-saml-connection")

        # pysaml2 names attributes mail / givenName / sn: the first test says so, the mapping is fixed, it passes
        page.get_by_role("link", name="Test sign-in").click()
        expect(page.get_by_role("heading", name="The test sign-in failed")).to_be_visible()
        expect(page.locator("#diagnosis")).to_contain_text("email")
        shoot(page, "portal-test-failed")
        page.get_by_role("link", name="Back to the connection").click()
        mapping = {"email": "mail", "given_name": "givenName", "family_name": "sn", "groups": "eduPersonAffiliation"}
        for field, attribute in mapping.items():
            page.get_by_label(field, exact=True).fill(attribute)
        page.get_by_role("button", name="Save mapping").click()
        expect(page.get_by_text("The attribute mapping is saved.")).to_be_visible()
        page.get_by_role("link", name="Test sign-in").click()
        expect(page.get_by_role("heading", name="The test sign-in worked")).to_be_visible()
        expect(page.locator("#profile")).to_contain_text("ada@acme.test")
        expect(page.locator("#profile")).to_contain_text("Lovelace")
        shoot(page, "portal-test-worked")
        assert page.url.startswith(world.base + "/portal/")  # the app never saw the test

        page.get_by_role("link", name="turn the connection on").click()
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_text("Single sign-on is on")).to_be_visible()
        _verify_domain(world, page, "acme.test")

        claims = _user_logs_in(world, "ada@acme.test", lambda p: None)  # pysaml2 answers at once, auto-posting
    assert claims["email"] == "ada@acme.test" and claims["given_name"] == "Ada"
    assert claims["oid"] == world.org_id and claims["iss"] == world.base


def _oidc_login(page: Page, login: str) -> None:
    """oidc-provider's development login and consent pages."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]", has_text="Continue")
    if consent.count():
        consent.click()


def test_an_admin_sets_up_oidc_and_a_user_logs_in(world: World) -> None:
    page = _new_page(world)
    page.goto(world.portal_link("SHAREABLE"))
    _choose(page, "Generic OpenID Connect", "OpenID Connect")
    redirect_uri = page.get_by_label("Redirect URI").input_value()
    assert redirect_uri.startswith(world.base + "/sso/v1/oidc/conn_") and redirect_uri.endswith("/callback")
    port = free_port()
    client_secret = secrets.token_urlsafe(24)
    with node_op(port, "entryway-portal", client_secret, redirect_uri, "client_secret_post") as issuer:
        page.get_by_label("Issuer URL").fill(issuer + "/nowhere")
        page.get_by_label("Client ID").fill("entryway-portal")
        page.get_by_label("Client secret").fill(client_secret)
        page.get_by_role("button", name="Check", exact=True).click()
        expect(page.get_by_text("Issuer URL: The IdP answered HTTP 404")).to_be_visible()  # caught before saving
        page.get_by_label("Issuer URL").fill(issuer)
        page.get_by_label("Client secret").fill(client_secret)
        page.get_by_role("button", name="Check", exact=True).click()
        expect(page.get_by_text("Check passed")).to_be_visible()
        expect(page.locator("#idp")).to_contain_text(issuer + "/token")
        shoot(page, "portal-oidc-check")
        page.get_by_label("Client secret").fill(client_secret)
        page.get_by_role("button", name="Check and save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()

        page.get_by_role("link", name="Test sign-in").click()
        _oidc_login(page, "jane")
        expect(page.get_by_role("heading", name="The test sign-in worked")).to_be_visible()
        expect(page.locator("#profile")).to_contain_text("jane@acme.test")
        shoot(page, "portal-oidc-test-worked")
        page.get_by_role("link", name="turn the connection on").click()
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_text("Single sign-on is on")).to_be_visible()
        _verify_domain(world, page, "acme.test")
        claims = _user_logs_in(world, "jane@acme.test", lambda p: _oidc_login(p, "jane"))
    assert claims["email"] == "jane@acme.test" and claims["oid"] == world.org_id


def test_framing_from_a_registered_origin_only(world: World) -> None:
    # A registered app origin frames an embeddable link: the portal renders and its UI events reach the app.
    app = _new_page(world)
    app.goto(world.app + "/settings?" + urlencode({"frame": world.portal_link("EMBEDDABLE")}))
    frame = app.frame_locator("#portal")
    expect(frame.get_by_role("heading", name="Set up single sign-on for Acme Corp")).to_be_visible()
    shoot(app, "portal-embedded")
    # Another origin frames a fresh link: the browser refuses to render it (CSP frame-ancestors).
    stranger = _new_page(world)
    refused: list[str] = []
    stranger.on("console", lambda message: refused.append(message.text))
    stranger.goto(world.stranger + "/settings?" + urlencode({"frame": world.portal_link("EMBEDDABLE")}))
    stranger.wait_for_timeout(1500)
    portal_frames = [f for f in stranger.frames if f.url.startswith(world.base + "/portal")]
    assert not any(f.locator("h1").count() for f in portal_frames if not f.is_detached())
    assert any("frame-ancestors" in text for text in refused), refused


def test_embedded_portal_posts_ui_events_to_the_app(world: World, tmp_path: Path) -> None:
    """Turning SSO on and off inside the frame tells the app, at its exact origin."""
    with world.rt.engine.begin() as conn:
        from entryway.services import connections

        made = connections.create_connection(
            world.rt,
            conn,
            world.seed.environment,
            world.org_id,
            type="SAML",
            provider="CUSTOM",
            saml_config={
                "idp_entity_id": "https://idp.acme.test",
                "idp_sso_url": "https://idp.acme.test/sso",
                "idp_certificates": [_certificate()],
            },
        )
    app = _new_page(world)
    app.goto(world.app + "/settings?" + urlencode({"frame": world.portal_link("EMBEDDABLE")}))
    frame = app.frame_locator("#portal")
    frame.get_by_role("link", name="Continue setup of Generic SAML 2.0 IdP").click()
    frame.get_by_role("button", name="Turn on").click()
    expect(frame.get_by_text("Single sign-on is on")).to_be_visible()
    frame.get_by_role("button", name="Turn off").click()
    expect(frame.get_by_text("Single sign-on is off")).to_be_visible()
    app.wait_for_function("window.received.length >= 2")
    received = app.evaluate("window.received")
    assert [m["type"] for m in received] == ["ORGANIZATION_SSO_ENABLED", "ORGANIZATION_SSO_DISABLED"]
    assert all(m["origin"] == world.base for m in received)
    assert received[0]["data"]["connection_id"] == made.id and received[0]["data"]["organization_id"] == world.org_id


def _certificate() -> str:
    from entryway.keys.material import certificate_pem, generate_rsa_key, self_signed_certificate

    return certificate_pem(self_signed_certificate(generate_rsa_key(), "Acme IdP", years=1))


def test_embedded_portal_warns_the_app_before_the_session_ends(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from entryway.store.tables import web_sessions

    app = _new_page(world)
    app.goto(world.app + "/settings?" + urlencode({"frame": world.portal_link("EMBEDDABLE")}))
    frame = app.frame_locator("#portal")
    expect(frame.get_by_role("heading", name="Set up single sign-on for Acme Corp")).to_be_visible()
    with world.rt.engine.begin() as conn:  # as if the 6 hours were nearly over
        ends = world.rt.clock.now() + timedelta(seconds=4)
        conn.execute(update(web_sessions).where(web_sessions.c.subject == world.org_id).values(expire_time=ends))
    frame.get_by_role("link", name="Add a connection").click()
    expect(frame.get_by_text("Your session ends in about 1 minute")).to_be_visible()
    app.wait_for_function("window.received.some(m => m.type === 'PORTAL_SESSION_EXPIRY')", timeout=20000)
    received = app.evaluate("window.received")
    assert [m["type"] for m in received] == ["PORTAL_SESSION_WARNING", "PORTAL_SESSION_EXPIRY"]
    assert all(m["origin"] == world.base and m["data"]["organization_id"] == world.org_id for m in received)
    expect(frame.get_by_text("Your session has ended")).to_be_visible()
    expect(frame.get_by_role("button", name="Continue")).to_be_disabled()
    shoot(app, "portal-embedded-expired")
