"""The FastAPI and Flask login routes against a real Entryway server: login, profile, logout, IdP-initiated
login, and the refusals (Entryway's errors, a forged state, an open redirect)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import flask
import pytest
from entryway_sdk import User
from entryway_sdk.frameworks.fastapi import EntrywayAuth as FastApiAuth
from entryway_sdk.frameworks.flask import EntrywayAuth as FlaskAuth
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.sdk.conftest import CALLBACK, POST_LOGOUT, Live
from tests.sdk.simulated_browser import idp_initiated, query, sign_in

pytestmark = pytest.mark.e2e

SECRET_KEY = secrets.token_urlsafe(32)


@dataclass
class Answer:
    status: int
    location: str
    body: str


class App(Protocol):
    def get(self, path_and_query: str) -> Answer: ...


def profile(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "sub": user.id}


class FastApiApp:
    def __init__(self, live: Live) -> None:
        auth = FastApiAuth(
            live.client, secret_key=SECRET_KEY, callback_url=CALLBACK, post_logout_redirect_uri=POST_LOGOUT
        )
        app = FastAPI()
        app.include_router(auth.router)

        @app.get("/me")
        def me(user: User = Depends(auth.current_user)) -> dict[str, Any]:
            return profile(user)

        self.http = TestClient(app, follow_redirects=False)

    def get(self, path_and_query: str) -> Answer:
        response = self.http.get(path_and_query)
        return Answer(response.status_code, response.headers.get("location", ""), response.text)


class FlaskApp:
    def __init__(self, live: Live) -> None:
        auth = FlaskAuth(
            live.client, secret_key=SECRET_KEY, callback_url=CALLBACK, post_logout_redirect_uri=POST_LOGOUT
        )
        app = flask.Flask(__name__)
        app.register_blueprint(auth.blueprint)

        @app.get("/me")
        def me() -> dict[str, Any]:
            return profile(auth.require_user())

        self.http = app.test_client()

    def get(self, path_and_query: str) -> Answer:
        response = self.http.get(path_and_query)
        return Answer(response.status_code, response.headers.get("location", ""), response.get_data(as_text=True))


@pytest.fixture(params=["fastapi", "flask"])
def app(request: pytest.FixtureRequest, live: Live) -> Iterator[App]:
    yield FastApiApp(live) if request.param == "fastapi" else FlaskApp(live)


def local(url: str) -> str:
    """The app-relative part of a URL the browser was sent to (the callback URL names another host)."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def log_in(live: Live, app: App, start: str = "/login?login_hint=jane@example.com") -> Answer:
    started = app.get(start)
    assert started.status == 302, started.body
    assert started.location.startswith(live.base + "/oauth/authorize?")
    landed = sign_in(live.browser, started.location, "jane@example.com")
    return app.get(local(landed))


def test_login_profile_and_logout(live: Live, app: App) -> None:
    assert app.get("/me").status == 401
    finished = log_in(live, app, "/login?login_hint=jane@example.com&return_to=/me")
    assert (finished.status, finished.location) == (302, "/me")
    me = app.get("/me")
    assert me.status == 200 and '"email":"jane@example.com"' in me.body.replace(" ", "")
    out = app.get("/logout")
    assert out.status == 302 and out.location.startswith(live.base + "/oidc/logout?")
    assert "id_token_hint=" in out.location
    signed_out = live.browser.get(out.location)
    assert (signed_out.status_code, signed_out.headers["location"]) == (302, POST_LOGOUT)
    assert app.get("/me").status == 401


def test_idp_initiated_login_becomes_a_normal_login(live: Live, app: App) -> None:
    landed = idp_initiated(live.browser, live.base, live.seed.connection_id, "ida@example.com")
    assert "idp_initiated_login=" in landed
    restarted = app.get(local(landed))
    assert restarted.status == 302
    sent = query(restarted.location)
    assert (sent["connection_id"], sent["login_hint"]) == (live.seed.connection_id, "ida@example.com")
    finished = app.get(local(sign_in(live.browser, restarted.location, "ida@example.com")))
    assert finished.status == 302
    assert "ida@example.com" in app.get("/me").body


def test_a_callback_with_a_foreign_state_is_refused(live: Live, app: App) -> None:
    started = app.get("/login?domain=example.com")
    landed = query(sign_in(live.browser, started.location))
    refused = app.get(f"/callback?code={landed['code']}&state=forged")
    assert refused.status == 400 and "state_mismatch" in refused.body
    assert app.get("/me").status == 401


def test_a_callback_without_the_login_cookie_is_refused(live: Live, app: App) -> None:
    other = FastApiApp(live)  # a different browser started the login
    started = other.get("/login?domain=example.com")
    landed = sign_in(live.browser, started.location)
    refused = app.get(local(landed))
    assert refused.status == 400 and "login_expired" in refused.body


def test_entryway_errors_are_shown(live: Live, app: App) -> None:
    started = app.get("/login?domain=nowhere.test")
    refused_by_entryway = live.browser.get(started.location)
    assert refused_by_entryway.status_code == 302
    shown = app.get(local(refused_by_entryway.headers["location"]))
    assert shown.status == 400 and "domain_not_found" in shown.body


def test_bad_login_requests(live: Live, app: App) -> None:
    assert app.get("/login").status == 400
    assert app.get("/login?login_hint=not-an-email").status == 400
    assert app.get("/login?idp_initiated_login=forged.token.value").status == 400


def test_return_to_never_leaves_the_app(live: Live, app: App) -> None:
    finished = log_in(live, app, "/login?login_hint=jane@example.com&return_to=//evil.test/x")
    assert finished.location == "/"
