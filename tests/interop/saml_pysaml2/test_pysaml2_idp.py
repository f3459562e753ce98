"""Interop: logins through pysaml2's IdP (an independent SAML implementation, signing with xmlsec1) against a
real Entryway server over loopback HTTP. Entryway imports the IdP's metadata from its URL; pysaml2 reads
Entryway's SP metadata; the browser is an httpx client following redirects and auto-posting forms.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from entryway.keys import rotation
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.tables import signing_keys
from tests.api.conftest import token_for
from tests.interop.saml_pysaml2.idp import Pysaml2Idp, posted_form, running_idp
from tests.support.server import free_port, running_server

CALLBACK = "http://127.0.0.1:9/callback"
EMAIL = "ada@example.com"
IDENTITY = {
    "mail": [EMAIL],
    "givenName": ["Ada"],
    "sn": ["Lovelace"],
    "eduPersonAffiliation": ["staff", "member"],
}
MAPPING = {"email": "mail", "given_name": "givenName", "family_name": "sn", "groups": "eduPersonAffiliation"}


@dataclass
class Setup:
    base: str
    seed: DevSeed
    http: httpx.Client
    idp: Pysaml2Idp
    connection_id: str


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def setup(rt: Runtime, tmp_path: Path) -> Iterator[Setup]:
    with _setup(rt, tmp_path, want_signed_requests=False) as ready:
        yield ready


@pytest.fixture
def signing_setup(rt: Runtime, tmp_path: Path) -> Iterator[Setup]:
    with _setup(rt, tmp_path, want_signed_requests=True) as ready:
        yield ready


@contextmanager
def _setup(
    rt: Runtime, tmp_path: Path, *, want_signed_requests: bool, slo_bindings: tuple[str, ...] | None = None
) -> Iterator[Setup]:
    rt.settings = replace(rt.settings, allow_private_fetch=True)  # the IdP's metadata is on loopback
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with running_server(rt, port) as base, httpx.Client(base_url=base, timeout=30) as http:
        api = {"Authorization": "Bearer " + token_for(rt, seed, ["*"])}
        orgs = f"/api/v1/organizations/{seed.organization_id}/connections"
        created = http.post(
            orgs, json={"type": "SAML", "provider": "CUSTOM", "attribute_mapping": MAPPING}, headers=api
        )
        assert created.status_code == 201, created.text
        connection = created.json()["connection"]
        sp_metadata = http.get(connection["saml_config"]["sp_metadata_url"]).text
        idp_options: dict[str, Any] = {"slo_bindings": slo_bindings} if slo_bindings else {}
        with running_idp(
            tmp_path, sp_metadata, IDENTITY, EMAIL, want_signed_requests=want_signed_requests, **idp_options
        ) as idp:
            patched = http.patch(
                f"{orgs}/{connection['id']}",
                json={
                    "saml_config": {"idp_metadata_url": idp.base_url + "/metadata", "allow_idp_initiated_login": True}
                },
                headers=api,
            )
            assert patched.status_code == 200, patched.text
            config = patched.json()["connection"]["saml_config"]
            assert config["idp_entity_id"] == idp.entity_id
            assert config["idp_sso_url"] == idp.base_url + "/sso/redirect"
            enabled = http.patch(f"{orgs}/{connection['id']}:enable", headers=api)
            assert enabled.status_code == 200, enabled.text
            yield Setup(base, seed, http, idp, connection["id"])


def _authorize(setup: Setup, state: str) -> httpx.Response:
    return setup.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": setup.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email profile",
            "state": state,
            "nonce": "n-1",
            "connection_id": setup.connection_id,
        },
    )


def test_sp_initiated_login_through_pysaml2(setup: Setup) -> None:
    state = secrets.token_urlsafe(12)
    authorize = _authorize(setup, state)
    assert authorize.status_code == 302, authorize.text
    to_idp = authorize.headers["location"]
    assert to_idp.startswith(setup.idp.base_url + "/sso/redirect?")
    page = setup.http.get(to_idp)  # pysaml2 parses the AuthnRequest and answers with its POST form
    assert page.status_code == 200, page.text
    action, fields = posted_form(page.text)
    assert action == f"{setup.base}/sso/v1/saml/{setup.connection_id}/callback"
    xml = base64.b64decode(fields["SAMLResponse"])
    assert b"xmlsec" not in xml and b"Signature" in xml  # signed by pysaml2 through xmlsec1
    answer = setup.http.post(action, data=fields)
    assert answer.status_code == 302, answer.text
    back = query(answer.headers["location"])
    assert answer.headers["location"].startswith(CALLBACK) and back["state"] == state and back.get("code"), back
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
    claims: dict[str, Any] = _claims(tokens.json()["id_token"])
    assert claims["email"] == EMAIL and claims["given_name"] == "Ada" and claims["family_name"] == "Lovelace"
    assert claims["sub"] == f"{setup.connection_id};{EMAIL}"
    # The same response again is a replay.
    replayed = setup.http.post(action, data=fields)
    assert "error=" in replayed.headers.get("location", "") or "Error code" in replayed.text


def test_pysaml2_default_sha1_signature_is_refused_with_a_clear_diagnosis(setup: Setup) -> None:
    setup.idp.sha1 = True
    authorize = setup.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": setup.seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": "s",
            "connection_id": setup.connection_id,
        },
    )
    action, fields = posted_form(setup.http.get(authorize.headers["location"]).text)
    back = query(setup.http.post(action, data=fields).headers["location"])
    assert back["error"] == "signature_validation_failed" and "SHA-1" in back["error_description"]


def test_idp_initiated_login_through_pysaml2(setup: Setup) -> None:
    acs = f"{setup.base}/sso/v1/saml/{setup.connection_id}/callback"
    sp_entity_id = f"{setup.base}/sso/v1/saml/{setup.connection_id}"
    page = setup.idp.respond(in_response_to=None, destination=acs, sp_entity_id=sp_entity_id, relay_state="")
    action, fields = posted_form(page)
    answer = setup.http.post(action, data={k: v for k, v in fields.items() if v})
    assert answer.status_code == 302, answer.text
    target = query(answer.headers["location"])
    assert "idp_initiated_login" in target, answer.headers["location"]


def _claims(token: str) -> dict[str, Any]:
    import json

    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_signed_authn_request_verified_by_pysaml2(signing_setup: Setup) -> None:
    """pysaml2's metadata says WantAuthnRequestsSigned; Entryway then signs, and pysaml2 checks the signature."""
    setup = signing_setup
    to_idp = _authorize(setup, "s1").headers["location"]
    assert "&SigAlg=" in to_idp and "&Signature=" in to_idp
    page = setup.http.get(to_idp)
    assert page.status_code == 200, page.text
    action, fields = posted_form(page.text)
    answer = setup.http.post(action, data=fields)
    assert query(answer.headers["location"]).get("code"), answer.headers["location"]
    # The same request with its RelayState changed no longer verifies at pysaml2.
    again = _authorize(setup, "s2").headers["location"]
    relay = query(again)["RelayState"]
    refused = setup.http.get(again.replace(f"RelayState={relay}", "RelayState=authreq_x"))
    assert refused.status_code == 400 and refused.text.startswith("refused"), refused.text
    unsigned = again.split("&SigAlg=")[0]
    assert setup.http.get(unsigned).status_code == 400


def test_signed_requests_verify_at_pysaml2_throughout_an_sp_key_rollover(
    signing_setup: Setup, rt: Runtime, tmp_path: Path
) -> None:
    """The next SP key is published, pysaml2 re-reads the metadata, the switch happens: every AuthnRequest on
    the way verifies at pysaml2, which knows only what the SP metadata told it."""
    setup = signing_setup
    env_id = setup.seed.environment.id
    metadata_url = f"{setup.base}/sso/v1/saml/{setup.connection_id}/metadata"

    def login(state: str) -> None:
        page = setup.http.get(_authorize(setup, state).headers["location"])
        assert page.status_code == 200, page.text  # pysaml2 verified the AuthnRequest's signature
        action, fields = posted_form(page.text)
        assert query(setup.http.post(action, data=fields).headers["location"]).get("code")

    with rt.engine.begin() as db:
        done = rotation.rotate(rt, db, env_id, rotation.MIN_GRACE_SECONDS, purpose="saml_sp")
    published = setup.http.get(metadata_url).text
    assert published.count("<ds:X509Certificate>") == 2
    setup.idp.reload_sp_metadata(tmp_path / "sp.xml", published)
    login("before-the-switch")
    # The grace period passes (the stored times say so; every instance follows them).
    now = rt.clock.now()
    with rt.engine.begin() as db:
        db.execute(update(signing_keys).where(signing_keys.c.id == done.new_kid).values(activate_time=now))
        db.execute(update(signing_keys).where(signing_keys.c.id.in_(done.replaced)).values(retire_time=now))
    rt.keyring.invalidate(env_id)
    assert rt.keyring.active(env_id, "saml_sp", now=rt.clock.now()).kid == done.new_kid
    login("after-the-switch")
    assert setup.http.get(metadata_url).text.count("<ds:X509Certificate>") == 1
    setup.idp.reload_sp_metadata(tmp_path / "sp.xml", setup.http.get(metadata_url).text)
    login("after-the-old-key-left-the-metadata")
