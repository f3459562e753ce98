"""Interop: logins and single logout through samlify's IdentityProvider (npm samlify 2.13, an independent Node
SAML implementation signing with xml-crypto) against a real Entryway server over loopback HTTP. Entryway
imports the IdP's metadata from its URL; samlify reads Entryway's SP metadata and parses its HTTP-Redirect
AuthnRequest, and verifies the signatures of Entryway's LogoutRequest and LogoutResponse against it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from entryway.keys.material import certificate_pem, generate_rsa_key, private_key_pem, self_signed_certificate
from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed, seed_development
from tests.api.conftest import token_for
from tests.support.processes import announced_process
from tests.support.server import free_port, running_server

HERE = Path(__file__).resolve().parent
CALLBACK = "http://127.0.0.1:9/callback"
EMAIL = "ada@example.com"


@contextmanager
def samlify_idp(tmp: Path, sp_metadata: str, encryption: str | None = None) -> Iterator[str]:
    key = generate_rsa_key()
    (tmp / "key.pem").write_bytes(private_key_pem(key))
    (tmp / "cert.pem").write_text(certificate_pem(self_signed_certificate(key, "samlify test IdP", years=1)))
    (tmp / "sp.xml").write_text(sp_metadata)
    args = [
        str(tmp / "sp.xml"),
        str(tmp / "key.pem"),
        str(tmp / "cert.pem"),
        EMAIL,
        *([encryption] if encryption else []),
    ]
    with announced_process(["node", str(HERE / "idp.mjs"), *args], HERE, "listening", "the samlify IdP") as url:
        yield url


@dataclass
class Setup:
    base: str
    seed: DevSeed
    http: httpx.Client
    idp: str
    connection_id: str


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def setup(rt: Runtime, tmp_path: Path) -> Iterator[Setup]:
    with _setup(rt, tmp_path, None) as ready:
        yield ready


@contextmanager
def _setup(rt: Runtime, tmp_path: Path, encryption: str | None) -> Iterator[Setup]:
    rt.settings = replace(rt.settings, allow_private_fetch=True)  # the IdP's metadata is on loopback
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with running_server(rt, port) as base, httpx.Client(base_url=base, timeout=30) as http:
        api = {"Authorization": "Bearer " + token_for(rt, seed, ["*"])}
        orgs = f"/api/v1/organizations/{seed.organization_id}/connections"
        body = {"type": "SAML", "provider": "CUSTOM", "saml_config": {"assertion_encrypted": bool(encryption)}}
        created = http.post(orgs, json=body, headers=api)
        assert created.status_code == 201, created.text
        connection = created.json()["connection"]
        sp_metadata = http.get(connection["saml_config"]["sp_metadata_url"]).text
        with samlify_idp(tmp_path, sp_metadata, encryption) as idp:
            config = {"idp_metadata_url": idp + "/metadata", "allow_idp_initiated_login": True}
            patched = http.patch(f"{orgs}/{connection['id']}", json={"saml_config": config}, headers=api)
            assert patched.status_code == 200, patched.text
            assert patched.json()["connection"]["saml_config"]["idp_sso_url"] == idp + "/sso"
            assert http.patch(f"{orgs}/{connection['id']}:enable", headers=api).status_code == 200
            yield Setup(base, seed, http, idp, connection["id"])


def _login(setup: Setup) -> dict[str, str]:
    """SP-initiated: authorize, samlify's answer, the ACS; the app's callback parameters."""
    authorize = setup.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": setup.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": "st",
            "connection_id": setup.connection_id,
        },
    )
    body = setup.http.get(authorize.headers["location"]).json()
    answer = setup.http.post(
        body["acs_url"], data={"SAMLResponse": body["SAMLResponse"], "RelayState": body["RelayState"]}
    )
    assert b"EncryptedAssertion" in base64.b64decode(body["SAMLResponse"])
    return query(answer.headers["location"])


@pytest.mark.parametrize(
    "algorithm",
    ["http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2009/xmlenc11#aes256-gcm"],
    ids=["aes256-cbc", "aes256-gcm"],
)
def test_encrypted_assertion_from_samlify(rt: Runtime, tmp_path: Path, algorithm: str) -> None:
    with _setup(rt, tmp_path, algorithm) as setup:
        back = _login(setup)
    assert back.get("code") and back["state"] == "st", back


def test_sp_initiated_login_through_samlify(setup: Setup) -> None:
    authorize = setup.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": setup.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email profile",
            "state": "st",
            "connection_id": setup.connection_id,
        },
    )
    assert authorize.status_code == 302, authorize.text
    assert authorize.headers["location"].startswith(setup.idp + "/sso?")
    idp_answer = setup.http.get(authorize.headers["location"])  # samlify parses the request and signs a response
    assert idp_answer.status_code == 200, idp_answer.text
    body = idp_answer.json()
    assert body["acs_url"] == f"{setup.base}/sso/v1/saml/{setup.connection_id}/callback"
    assert b"xml-exc-c14n" in base64.b64decode(body["SAMLResponse"])
    answer = setup.http.post(
        body["acs_url"], data={"SAMLResponse": body["SAMLResponse"], "RelayState": body["RelayState"]}
    )
    assert answer.status_code == 302, answer.text
    back = query(answer.headers["location"])
    assert back.get("code") and back["state"] == "st", back
    tokens = setup.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": CALLBACK,
            "client_id": setup.seed.client_id,
            "client_secret": setup.seed.plain_secret,
        },
    )
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    profile = setup.http.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert profile.status_code == 200, profile.text
    claims = profile.json()
    assert claims["email"] == EMAIL and claims["given_name"] == "Ada" and claims["family_name"] == "Lovelace"


def test_idp_initiated_login_through_samlify(setup: Setup) -> None:
    body = setup.http.get(setup.idp + "/idp-initiated").json()
    answer = setup.http.post(body["acs_url"], data={"SAMLResponse": body["SAMLResponse"]})
    assert answer.status_code == 302, answer.text
    assert "idp_initiated_login" in query(answer.headers["location"])
    replayed = setup.http.post(body["acs_url"], data={"SAMLResponse": body["SAMLResponse"]})
    assert "idp_initiated_login" not in replayed.headers.get("location", "")


BYE = "http://127.0.0.1:9/signed-out"


def _tokens(setup: Setup) -> dict[str, str]:
    authorize = setup.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": setup.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "connection_id": setup.connection_id,
        },
    )
    body = setup.http.get(authorize.headers["location"]).json()
    answer = setup.http.post(
        body["acs_url"], data={"SAMLResponse": body["SAMLResponse"], "RelayState": body["RelayState"]}
    )
    code = query(answer.headers["location"])["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    data |= {"client_id": setup.seed.client_id, "client_secret": str(setup.seed.plain_secret)}
    return dict(setup.http.post("/oauth/token", data=data).json())


def test_sp_initiated_logout_through_samlify(setup: Setup, rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, setup.seed.environment, RedirectKind.POST_LOGOUT, BYE)
    tokens = _tokens(setup)
    to_idp = setup.http.get(
        "/oidc/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE, "state": "bye"},
    )
    assert to_idp.status_code == 302 and to_idp.headers["location"].startswith(setup.idp + "/slo?SAMLRequest=")
    relay = query(to_idp.headers["location"])["RelayState"]
    tampered = to_idp.headers["location"].replace(f"RelayState={relay}", "RelayState=_other")
    assert setup.http.get(tampered).status_code == 400  # samlify checks the query signature
    at_idp = setup.http.get(to_idp.headers["location"])  # samlify verifies the signature and schema-validates
    assert at_idp.status_code == 302, at_idp.text
    back = at_idp.headers["location"]
    assert back.startswith(f"{setup.base}/sso/v1/saml/{setup.connection_id}/slo?SAMLResponse=")
    done = setup.http.get(back)
    assert done.status_code == 302, done.text
    assert done.headers["location"] == BYE + "?state=bye"
    assert setup.http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 401


def test_idp_initiated_logout_through_samlify(setup: Setup) -> None:
    tokens = _tokens(setup)
    request = setup.http.get(setup.idp + "/idp-logout").json()
    answer = setup.http.get(request["url"])  # Entryway verifies samlify's signature and ends the session
    assert answer.status_code == 302, answer.text
    assert answer.headers["location"].startswith(setup.idp + "/slo?SAMLResponse=")
    assert query(answer.headers["location"])["RelayState"] == "samlify-rs"
    verified = setup.http.get(answer.headers["location"])  # samlify verifies Entryway's signed LogoutResponse
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True and verified.json()["in_response_to"] == request["id"]
    assert setup.http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 401
