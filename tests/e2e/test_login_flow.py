"""A whole SP-initiated login over HTTP against a real server on a loopback port: the app's authorize request,
the IdP simulator, the SAML ACS, the code exchange, and the ID token checked with an independent JWT library
(joserfc) against the published keys; with the login steps in the thread pool and in place."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.tables import connections
from tests.support.server import free_port, running_server

pytestmark = pytest.mark.e2e

CALLBACK = "http://127.0.0.1:9/callback"


@dataclass
class Live:
    base: str
    seed: DevSeed
    http: httpx.Client


@pytest.fixture(params=["thread pool", "in place"])
def live(rt: Runtime, request: pytest.FixtureRequest) -> Iterator[Live]:
    """The server with its login steps in the thread pool (the default) or on the event loop
    (ENTRYWAY_LOGIN_STEPS_IN_PLACE, web/step_runner.py)."""
    rt = replace(rt, settings=replace(rt.settings, login_steps_in_place=request.param == "in place"))
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with rt.engine.begin() as conn:  # map one more attribute, to see a custom claim come through
        conn.execute(
            update(connections)
            .where(connections.c.id == seed.connection_id)
            .values(attribute_mapping={**DEFAULT_ATTRIBUTE_MAPPING, "department": "department"})
        )
    with running_server(rt, port) as base, httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
        yield Live(base, seed, http)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def left_half_sha256(value: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()[:16]).rstrip(b"=").decode()


def start(live: Live, challenge: str, state: str, nonce: str) -> dict[str, str]:
    """authorize -> 302 to the simulator; the simulator's query parameters."""
    response = live.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": live.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": "jane@example.com",
        },
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    sso = f"{live.base}/sso/v1/simulator/{live.seed.connection_id}/sso?"
    assert location.startswith(sso), location
    params = query(location)
    assert params["SAMLRequest"] and params["RelayState"]
    return params


def simulate(live: Live, sso: dict[str, str], outcome: str = "login") -> dict[str, Any]:
    """The simulator's login form, answered as a script: JSON with the ACS URL and the signed response."""
    form = {
        "SAMLRequest": sso["SAMLRequest"],
        "RelayState": sso["RelayState"],
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        # repeated fields, paired by position
        "attr_name": ["groups", "groups", "department", "employee_id"],
        "attr_value": ["engineering", "admins", "R&D", "4711"],
        "outcome": outcome,
    }
    response = live.http.post(
        f"/sso/v1/simulator/{live.seed.connection_id}/login", data=form, headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"acs_url", "SAMLResponse", "RelayState"}
    assert body["acs_url"] == f"{live.base}/sso/v1/saml/{live.seed.connection_id}/callback"
    assert body["RelayState"] == sso["RelayState"]
    return body


def post_to_acs(live: Live, answer: dict[str, Any]) -> dict[str, str]:
    response = live.http.post(
        answer["acs_url"], data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]}
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    return query(location)


def redeem(live: Live, code: str, verifier: str) -> httpx.Response:
    return live.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": live.seed.client_id,
            "client_secret": live.seed.plain_secret,
            "code_verifier": verifier,
        },
        headers={"authorization": "Bearer ignored", "x-sdk-version": "python-2.1.0"},
    )


def test_sp_initiated_login_end_to_end(live: Live) -> None:
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    sso = start(live, challenge, state, nonce)
    callback = post_to_acs(live, simulate(live, sso))
    assert callback["state"] == state
    code = callback["code"]

    response = redeem(live, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {"access_token", "id_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 86399

    discovery = live.http.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == live.base
    keys = KeySet.import_key_set(live.http.get(urlsplit(discovery["jwks_uri"]).path).json())
    decoded = jose_jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live.base},
        aud={"essential": True, "value": live.seed.client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(decoded.claims)
    claims = dict(decoded.claims)
    conn_id, org_id = live.seed.connection_id, live.seed.organization_id
    assert set(claims) == {
        "iss", "aud", "azp", "sub", "amr", "oid", "sid", "iat", "exp", "nonce", "at_hash", "c_hash", "email",
        "email_verified", "name", "given_name", "family_name", "preferred_username", "groups", "identities",
        "department",
    }  # fmt: skip
    assert claims["aud"] == [live.seed.client_id] and claims["azp"] == live.seed.client_id
    assert claims["sub"] == f"{conn_id};jane@example.com"
    assert claims["amr"] == [conn_id] and claims["oid"] == org_id
    assert claims["sid"].startswith("ses_")
    assert abs(claims["iat"] - time.time()) < 60 and claims["exp"] > claims["iat"]
    assert claims["at_hash"] == left_half_sha256(tokens["access_token"])
    assert claims["c_hash"] == left_half_sha256(code)
    assert claims["email"] == "jane@example.com" and claims["email_verified"] is True
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Jane Doe", "Jane", "Doe")
    assert claims["preferred_username"] == "jane@example.com"
    assert claims["groups"] == ["engineering", "admins"]
    assert claims["department"] == "R&D"
    assert claims["identities"] == [
        {
            "connection_id": conn_id,
            "organization_id": org_id,
            "connection_type": "SAML",
            "provider_name": "IDP_SIMULATOR",
            "provider_raw_attributes": {"employee_id": "4711"},
        }
    ]

    access = jose_jwt.decode(tokens["access_token"], keys, algorithms=["RS256"])
    assert access.header["kid"] == decoded.header["kid"]
    assert access.claims["sub"] == claims["sub"] and access.claims["sid"] == claims["sid"]

    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    userinfo = live.http.get("/userinfo", headers=bearer)
    assert userinfo.status_code == 200 and userinfo.json()["email"] == "jane@example.com"

    # The code is single-use; its second use revokes the access token it issued.
    again = redeem(live, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert live.http.get("/userinfo", headers=bearer).status_code == 401


def test_an_idp_failure_comes_back_to_the_app_as_an_error_with_state(live: Live) -> None:
    _, challenge = pkce_pair()
    sso = start(live, challenge, "st-fail", "n-fail")
    callback = post_to_acs(live, simulate(live, sso, outcome="error"))
    assert callback["state"] == "st-fail"
    assert callback["error"] == "invalid_status"
    assert "(reference err_" in callback["error_description"]
    assert "code" not in callback


def test_a_wrong_pkce_verifier_gets_no_tokens(live: Live) -> None:
    _, challenge = pkce_pair()
    sso = start(live, challenge, "st", "n")
    code = post_to_acs(live, simulate(live, sso))["code"]
    other_verifier, _ = pkce_pair()
    response = redeem(live, code, other_verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
