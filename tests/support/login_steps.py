"""One SP-initiated login through the IdP simulator, step by step, each step sent to an instance of the caller's
choosing (tests/support/instances.py): authorize, the IdP's answer, the ACS, the code exchange, userinfo."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.instances import Balancer, Instance

CALLBACK = "http://127.0.0.1:9/callback"


@dataclass(frozen=True)
class App:
    env_url: str
    client_id: str
    client_secret: str
    connection_id: str


@dataclass
class Login:
    app: App
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    sso: dict[str, str] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


class StepFailed(AssertionError):
    def __init__(self, step: str, response: httpx.Response) -> None:
        super().__init__(f"{step}: HTTP {response.status_code} {response.text[:300]}")
        self.step = step
        self.response = response


def authorize(lb: Balancer, at: Instance, login: Login) -> httpx.Response:
    response = lb.request(
        at,
        "GET",
        f"{login.app.env_url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": login.app.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": login.challenge,
            "code_challenge_method": "S256",
            "login_hint": "jane@example.com",
        },
    )
    if response.status_code == 302:
        login.sso = query(response.headers["location"])
    return response


def idp_answer(lb: Balancer, at: Instance, login: Login) -> httpx.Response:
    """The IdP simulator signs a response for the login (as a script would drive it: JSON back)."""
    response = lb.request(
        at,
        "POST",
        f"{login.app.env_url}/sso/v1/simulator/{login.app.connection_id}/login",
        data={
            "SAMLRequest": login.sso["SAMLRequest"],
            "RelayState": login.sso["RelayState"],
            "email": "jane@example.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "outcome": "login",
        },
        headers={"accept": "application/json"},
    )
    if response.status_code == 200:
        login.answer = response.json()
    return response


def acs(lb: Balancer, at: Instance, login: Login) -> httpx.Response:
    response = lb.request(
        at,
        "POST",
        login.answer["acs_url"],
        data={"SAMLResponse": login.answer["SAMLResponse"], "RelayState": login.answer["RelayState"]},
    )
    if response.status_code == 302 and response.headers["location"].startswith(CALLBACK + "?"):
        got = query(response.headers["location"])
        if "code" in got:
            assert got["state"] == login.state
            login.code = got["code"]
    return response


def token(lb: Balancer, at: Instance, login: Login) -> httpx.Response:
    assert login.code is not None
    response = lb.request(
        at,
        "POST",
        f"{login.app.env_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": CALLBACK,
            "client_id": login.app.client_id,
            "client_secret": login.app.client_secret,
            "code_verifier": login.verifier,
        },
    )
    if response.status_code == 200:
        login.tokens = response.json()
    return response


def userinfo(lb: Balancer, at: Instance, login: Login) -> httpx.Response:
    return lb.request(
        at,
        "GET",
        f"{login.app.env_url}/userinfo",
        headers={"authorization": f"Bearer {login.tokens['access_token']}"},
    )


def full_login(lb: Balancer, route: list[Instance], app: App) -> Login:
    """All five steps, step i sent to route[i % len(route)]; raises StepFailed naming the step that failed."""
    login = Login(app)
    steps = [(authorize, 302), (idp_answer, 200), (acs, 302), (token, 200), (userinfo, 200)]
    for index, (step, wanted) in enumerate(steps):
        response = step(lb, route[index % len(route)], login)
        if response.status_code != wanted or (step is acs and login.code is None):
            raise StepFailed(step.__name__, response)
    return login
