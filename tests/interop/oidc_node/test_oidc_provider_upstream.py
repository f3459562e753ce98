"""Upstream interop: npm oidc-provider (a real, independent OpenID Provider) as the IdP of an Entryway OIDC
connection. Users sign in through its own login and consent pages; Entryway discovers it, exchanges the code
(PKCE, client_secret_post or client_secret_basic), checks the RFC 9207 iss parameter it sends, validates its
ID token against its JWKS and merges its userinfo. Then the failures: wrong client secret, wrong issuer,
expired ID token, bad nonce."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from html import unescape
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.connectors.oidc.discovery import URL_FIELDS
from entryway.model.connections import SsoConnection
from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import connection_checks, environments
from entryway.services import connections as connection_service
from entryway.services.bootstrap import DevSeed, seed_development
from tests.connectors.oidc.support import CALLBACK, ENV_URL, app_result, last_failure, query, redeem, start
from tests.interop.oidc_node.conftest import node_op
from tests.support.server import free_port

CLIENT_ID = "entryway-rp"
CLIENT_SECRET = "a-real-secret-for-oidc-provider"


@dataclass
class World:
    rt: Runtime
    seed: DevSeed
    http: TestClient
    issuer: str
    connection_id: str
    clock: FrozenClock


def _draft(ort: Runtime, seed: DevSeed, oidc_config: dict[str, Any]) -> SsoConnection:
    """The connection without its IdP URLs: its ID is the redirect URI the OP must know before it starts, and
    a connection naming an IdP is saved only once that IdP answers."""
    draft = {k: v for k, v in oidc_config.items() if k not in URL_FIELDS}
    with ort.engine.begin() as db:
        return connection_service.create_connection(
            ort, db, seed.environment, seed.organization_id, type="OIDC", provider="CUSTOM", oidc_config=draft
        )


def _point_at_idp_and_enable(ort: Runtime, seed: DevSeed, connection_id: str, oidc_config: dict[str, Any]) -> None:
    changes = {"oidc_config": {k: v for k, v in oidc_config.items() if k in URL_FIELDS}}
    checked = connection_checks.check_before_update(ort, seed.environment, connection_id, changes)
    with ort.engine.begin() as db:
        connection_service.update_connection(ort, db, seed.environment, connection_id, changes, provider_check=checked)
        connection_service.set_enabled(ort, db, seed.environment, connection_id, True, provider_check=checked)


def _world(rt: Runtime, clock: FrozenClock, auth_method: str, **config: object) -> Iterator[World]:
    ort = Runtime.build(replace(rt.settings, allow_private_fetch=True), clock=clock, engine=rt.engine)
    seed = seed_development(ort, ENV_URL, CALLBACK)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    oidc_config = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "token_auth_type": "BASIC_AUTH" if auth_method == "client_secret_basic" else "URL_PARAMS",
        **config,
    }
    conn = _draft(ort, seed, oidc_config)
    redirect_uri = f"{ENV_URL}/sso/v1/oidc/{conn.id}/callback"
    landing = f"{ENV_URL}/sso/v1/oidc/{conn.id}/logout"
    with node_op(port, CLIENT_ID, CLIENT_SECRET, redirect_uri, auth_method, landing) as started:
        assert started == issuer
        _point_at_idp_and_enable(ort, seed, conn.id, oidc_config)
        with TestClient(create_app(ort), base_url=ENV_URL, follow_redirects=False) as http:
            yield World(ort, seed, http, issuer, conn.id, clock)


@pytest.fixture
def frozen() -> FrozenClock:
    from datetime import UTC, datetime

    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def world(rt: Runtime, frozen: FrozenClock) -> Iterator[World]:
    yield from _world(rt, frozen, "client_secret_post")


def sign_in_at_op(authorize_url: str, login: str = "jane", browser: httpx.Client | None = None) -> str:
    """Drive oidc-provider's own login and consent pages as a browser would; return the redirect back.
    Give `browser` to keep the OP's session cookies across calls."""
    with nullcontext(browser) if browser else httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorize_url)
        for _ in range(10):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(ENV_URL):
                    return location
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text[:500]
            action = unescape(re.search(r'<form[^>]*action="([^"]+)"', response.text).group(1))  # type: ignore[union-attr]
            prompt = "login" if 'name="login"' in response.text else "consent"
            form = {"prompt": prompt, "login": login, "password": "any"} if prompt == "login" else {"prompt": prompt}
            response = browser.post(urljoin(str(response.url), action), data=form)
    raise AssertionError("oidc-provider never redirected back")


def back_to_entryway(world: World, location: str) -> httpx.Response:
    path_and_query = location.removeprefix(ENV_URL)
    return world.http.get(path_and_query)


def test_a_user_signs_in_through_oidc_provider(world: World) -> None:
    started = start(world.http, world.seed, world.connection_id)
    assert started.location.startswith(f"{world.issuer}/auth?")
    back = sign_in_at_op(started.location)
    assert query(back)["iss"] == world.issuer  # oidc-provider sends RFC 9207's iss, and Entryway checks it
    result = app_result(back_to_entryway(world, back))
    assert result["state"] == "app-state"
    claims = jwt.decode(redeem(world.http, world.seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["sub"] == f"{world.connection_id};jane"
    # oidc-provider puts the profile in userinfo, not the ID token: these came through the userinfo merge
    assert claims["email"] == "jane@acme.test" and claims["given_name"] == "Jane" and claims["family_name"] == "Doe"
    assert claims["identities"][0]["connection_type"] == "OIDC"


def test_client_secret_basic(rt: Runtime, frozen: FrozenClock) -> None:
    for world in _world(rt, frozen, "client_secret_basic"):
        started = start(world.http, world.seed, world.connection_id)
        result = app_result(back_to_entryway(world, sign_in_at_op(started.location)))
        assert "code" in result


def test_wrong_client_secret(world: World) -> None:
    with world.rt.engine.begin() as db:
        connection_service.update_connection(
            world.rt, db, world.seed.environment, world.connection_id, {"oidc_config": {"client_secret": "wrong"}}
        )
    started = start(world.http, world.seed, world.connection_id)
    result = app_result(back_to_entryway(world, sign_in_at_op(started.location)))
    assert result["error"] == "failed_to_exchange_token"
    assert last_failure(world.rt)["diagnosis"]["idp_error"] == "invalid_client"


def test_wrong_issuer(rt: Runtime, frozen: FrozenClock) -> None:
    # Configured by hand with the real endpoints but another issuer (no discovery document to catch it).
    port = free_port()
    real = f"http://127.0.0.1:{port}"
    ort = Runtime.build(replace(rt.settings, allow_private_fetch=True), clock=frozen, engine=rt.engine)
    seed = seed_development(ort, ENV_URL, CALLBACK)
    oidc_config = {
        "issuer": "https://login.other.example",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_uri": f"{real}/auth",
        "token_uri": f"{real}/token",
        "jwks_uri": f"{real}/jwks",
    }
    conn = _draft(ort, seed, oidc_config)
    redirect_uri = f"{ENV_URL}/sso/v1/oidc/{conn.id}/callback"
    with (
        node_op(port, CLIENT_ID, CLIENT_SECRET, redirect_uri, "client_secret_post"),
        TestClient(create_app(ort), base_url=ENV_URL, follow_redirects=False) as http,
    ):
        _point_at_idp_and_enable(ort, seed, conn.id, oidc_config)
        started = start(http, seed, conn.id)
        back = sign_in_at_op(started.location)
        # RFC 9207: the iss parameter already names another issuer, before any code exchange
        result = app_result(http.get(back.removeprefix(ENV_URL)))
        assert result["error"] == "invalid_request"
        # Without the iss parameter, the ID token's iss is what gives it away
        started = start(http, seed, conn.id)
        back = sign_in_at_op(started.location)
        params = {k: v for k, v in query(back).items() if k != "iss"}
        result = app_result(http.get(f"/sso/v1/oidc/{conn.id}/callback?{urlencode(params)}"))
        assert result["error"] == "invalid_id_token"
    assert "another issuer" in last_failure(ort)["message"]


def test_expired_id_token(world: World) -> None:
    started = start(world.http, world.seed, world.connection_id)
    back = sign_in_at_op(started.location)
    world.clock.advance(hours=2)  # oidc-provider's ID tokens live an hour
    assert app_result(back_to_entryway(world, back))["error"] == "invalid_id_token"
    assert "expired" in last_failure(world.rt)["message"]


def test_bad_nonce(world: World) -> None:
    started = start(world.http, world.seed, world.connection_id)
    # The authorization request is tampered with on its way to the IdP: the nonce the IdP signs is not ours.
    tampered = {**started.params, "nonce": "attacker-chosen-nonce"}
    back = sign_in_at_op(f"{world.issuer}/auth?{urlencode(tampered)}")
    assert app_result(back_to_entryway(world, back))["error"] == "invalid_id_token"
    assert "nonce" in last_failure(world.rt)["message"]


AFTER = "http://localhost:3000/signed-out"


def _silent_sign_in(world: World, browser: httpx.Client) -> dict[str, str]:
    """prompt=none at oidc-provider: a code while its session lives, error=login_required once it ended."""
    started = start(world.http, world.seed, world.connection_id)
    answer = browser.get(started.location + "&prompt=none")
    for _ in range(5):
        location = urljoin(str(answer.url), answer.headers["location"])
        if location.startswith(ENV_URL):
            return query(location)
        answer = browser.get(location)
    raise AssertionError("oidc-provider never answered the silent sign-in")


def test_logout_ends_the_oidc_provider_session_with_its_id_token_as_hint(world: World) -> None:
    with world.rt.engine.begin() as db:
        environments.add_redirect_uri(world.rt, db, world.seed.environment, RedirectKind.POST_LOGOUT, AFTER)
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        started = start(world.http, world.seed, world.connection_id)
        back = sign_in_at_op(started.location, browser=browser)
        id_token = redeem(world.http, world.seed, app_result(back_to_entryway(world, back))["code"])["id_token"]
        assert "code" in _silent_sign_in(world, browser)  # the OP's session is alive
        out = world.http.get(
            "/oidc/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": AFTER, "state": "bye-7"}
        )
        assert out.status_code == 302
        to_op = out.headers["location"]
        assert to_op.startswith(f"{world.issuer}/session/end?")
        hint = jwt.decode(query(to_op)["id_token_hint"], options={"verify_signature": False})
        assert hint["iss"] == world.issuer and hint["aud"] == CLIENT_ID and hint["sub"] == "jane"
        # oidc-provider checks the hint (its own signature, this client) and asks the user to confirm.
        page = browser.get(to_op)
        assert page.status_code == 200, page.text[:500]
        action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        confirmed = browser.post(urljoin(str(page.url), action), data={**hidden, "logout": "yes"})
        assert confirmed.status_code in (302, 303), confirmed.text[:500]
        landing = confirmed.headers["location"]
        assert landing.startswith(f"{ENV_URL}/sso/v1/oidc/{world.connection_id}/logout")
        finished = world.http.get(landing.removeprefix(ENV_URL))
        assert finished.status_code == 302 and finished.headers["location"] == f"{AFTER}?state=bye-7"
        # the upstream session really ended: a silent sign-in is now refused by the OP
        assert _silent_sign_in(world, browser).get("error") == "login_required"
