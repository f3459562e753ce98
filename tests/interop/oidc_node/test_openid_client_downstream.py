"""Downstream interop: npm openid-client (a real, independent relying party) logs in to Entryway knowing only
the issuer URL and its client credentials: discovery, authorization URL with PKCE/state/nonce, the code grant
with its own ID-token validation against /keys, and userinfo. The user signs in at the IdP simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.interop.oidc_node.conftest import run_node
from tests.support.server import free_port, running_server

CALLBACK = "http://127.0.0.1:9/openid-client/callback"


@pytest.fixture
def live(rt: Runtime) -> Iterator[tuple[str, DevSeed]]:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with running_server(rt, port) as base:
        yield base, seed


def sign_in_at_simulator(base: str, authorize_url: str, email: str) -> str:
    """The browser's part: Entryway -> IdP simulator (scripted, JSON) -> ACS -> the app's callback URL."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        to_idp = browser.get(authorize_url)
        assert to_idp.status_code == 302, to_idp.text
        sso = httpx.URL(to_idp.headers["location"])
        connection_id = sso.path.split("/")[4]
        answer = browser.post(
            f"{base}/sso/v1/simulator/{connection_id}/login",
            data={
                "SAMLRequest": sso.params["SAMLRequest"],
                "RelayState": sso.params["RelayState"],
                "email": email,
                "first_name": "Jane",
                "last_name": "Doe",
            },
            headers={"accept": "application/json"},
        ).json()
        back = browser.post(
            answer["acs_url"], data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]}
        )
        assert back.status_code == 302, back.text
        return str(back.headers["location"])


def test_openid_client_logs_in_from_discovery_alone(live: tuple[str, DevSeed]) -> None:
    base, seed = live
    assert seed.plain_secret is not None
    credentials = (base, seed.client_id, seed.plain_secret)
    started: dict[str, Any] = json.loads(run_node("rp.mjs", "start", *credentials, CALLBACK, "jane@example.com"))
    assert started["url"].startswith(f"{base}/oauth/authorize?")
    callback_url = sign_in_at_simulator(base, started["url"], "jane@example.com")
    assert callback_url.startswith(CALLBACK + "?")
    finished = json.loads(
        run_node(
            "rp.mjs", "finish", *credentials, callback_url, started["state"], started["nonce"], started["verifier"]
        )
    )
    claims = finished["claims"]
    assert claims["iss"] == base and claims["aud"] in (seed.client_id, [seed.client_id])
    assert claims["email"] == "jane@example.com" and claims["nonce"] == started["nonce"]
    assert claims["sub"].startswith(seed.connection_id + ";")
    assert finished["userinfo"]["sub"] == claims["sub"] and finished["userinfo"]["email"] == "jane@example.com"


def test_openid_client_refuses_a_tampered_state(live: tuple[str, DevSeed]) -> None:
    base, seed = live
    assert seed.plain_secret is not None
    credentials = (base, seed.client_id, seed.plain_secret)
    started: dict[str, Any] = json.loads(run_node("rp.mjs", "start", *credentials, CALLBACK, "jane@example.com"))
    callback_url = sign_in_at_simulator(base, started["url"], "jane@example.com")
    with pytest.raises(RuntimeError, match="state"):
        run_node("rp.mjs", "finish", *credentials, callback_url, "another-state", started["nonce"], started["verifier"])
