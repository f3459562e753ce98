"""The IdP simulator: development only, and what it sends is a real SAML response the ACS accepts."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from entryway.app import create_app
from entryway.connectors.registry import connector_for
from entryway.model.connections import ConnectionType, Provider, SsoConnection
from entryway.model.environments import EnvironmentType
from entryway.oidc_provider import signing
from entryway.runtime import Runtime
from entryway.services import environments, logins
from entryway.services.bootstrap import DevSeed, seed_development, simulator_urls
from entryway.services.connections import find_connection, insert_connection
from entryway.store.after_commit import transaction
from entryway.store.tables import organizations
from tests.connectors.support import CALLBACK, ENV_URL, SamlWorld, make_world, outcome, query


@pytest.fixture
def world(rt: Runtime) -> Iterator[SamlWorld]:
    yield from make_world(rt)


def _simulator(world: SamlWorld) -> SsoConnection:
    with world.rt.engine.connect() as db:
        found = find_connection(db, world.env_id, world.seed.connection_id)
    assert found is not None and found.provider is Provider.IDP_SIMULATOR
    return found


def _start(world: SamlWorld, simulator: SsoConnection, login_hint: str | None = None) -> tuple[str, dict[str, str]]:
    """Start a login on the simulator connection; return the auth request ID and the redirect's parameters."""
    with transaction(world.rt.engine) as db:
        request = logins.create_auth_request(
            world.rt,
            db,
            env=world.seed.environment,
            client_id=world.seed.client_id,
            redirect_uri=CALLBACK,
            scope="openid email profile",
            state="s-1",
            nonce=None,
            code_challenge=None,
            code_challenge_method=None,
            connection=simulator,
            login_hint=login_hint,
            upstream_request_id=connector_for(simulator).new_upstream_id(),
        )
    answer = connector_for(simulator).start_login(world.rt, world.seed.environment, simulator, request)
    location = answer.headers["location"]
    assert location.startswith(simulator.saml_config["idp_sso_url"] + "?")
    return request.id, query(location)


def _login(world: SamlWorld, simulator: SsoConnection, params: dict[str, str], **form: object):  # type: ignore[no-untyped-def]
    data = {"SAMLRequest": params.get("SAMLRequest", ""), "RelayState": params.get("RelayState", ""), **form}
    return world.http.post(f"/sso/v1/simulator/{simulator.id}/login", data=data, headers={"Accept": "application/json"})


def test_simulated_login_validates_at_the_acs(world: SamlWorld) -> None:
    simulator = _simulator(world)
    request_id, params = _start(world, simulator, login_hint="ada@example.com")
    page = world.http.get(f"/sso/v1/simulator/{simulator.id}/sso", params=params)
    assert page.status_code == 200
    assert 'value="ada@example.com"' in page.text
    made = _login(
        world,
        simulator,
        params,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        attr_name=["department", "team", "team"],
        attr_value=["R&D", "core", "infra"],
        outcome="login",
    )
    assert made.status_code == 200
    body = made.json()
    assert body["acs_url"] == simulator.saml_config["sp_assertion_url"]
    assert body["RelayState"] == request_id
    answer = world.http.post(body["acs_url"], data={"SAMLResponse": body["SAMLResponse"], "RelayState": request_id})
    assert outcome(answer) == "code"
    assert query(answer.headers["location"])["state"] == "s-1"
    profile = world.code_profile(request_id)
    assert (profile["email"], profile["given_name"], profile["family_name"]) == ("ada@example.com", "Ada", "Lovelace")
    assert profile["raw_attributes"] == {"department": "R&D", "team": ["core", "infra"]}


def test_error_outcome_reaches_the_app_as_invalid_status(world: SamlWorld) -> None:
    simulator = _simulator(world)
    request_id, params = _start(world, simulator)
    body = _login(world, simulator, params, email="ada@example.com", outcome="error").json()
    answer = world.http.post(body["acs_url"], data={"SAMLResponse": body["SAMLResponse"], "RelayState": request_id})
    assert answer.status_code == 302
    assert query(answer.headers["location"])["error"] == "invalid_status"


def test_idp_initiated_outcome_yields_the_jwt_redirect_once(world: SamlWorld) -> None:
    simulator = _simulator(world)
    made = world.http.post(
        f"/sso/v1/simulator/{simulator.id}/login",
        data={"email": "ada@example.com", "outcome": "idp_initiated", "RelayState": "/dashboard"},
        headers={"Accept": "application/json"},
    )
    body = made.json()
    form = {"SAMLResponse": body["SAMLResponse"], "RelayState": body["RelayState"]}
    answer = world.http.post(body["acs_url"], data=form)
    assert answer.status_code == 302
    token = query(answer.headers["location"])["idp_initiated_login"]
    claims = signing.verify(world.rt, world.seed.environment, token)
    assert (claims["connection_id"], claims["login_hint"]) == (simulator.id, "ada@example.com")
    assert claims["relay_state"] == "/dashboard"
    replay = world.http.post(body["acs_url"], data=form)
    assert outcome(replay) == "invalid_saml_response"


def test_idp_initiated_page_offers_only_the_unsolicited_outcome(world: SamlWorld) -> None:
    simulator = _simulator(world)
    page = world.http.get(f"/sso/v1/simulator/{simulator.id}/idp-initiated", params={"login_hint": "x@example.com"})
    assert page.status_code == 200
    assert 'value="idp_initiated"' in page.text and 'value="login"' not in page.text


def test_browser_gets_an_auto_posting_form_to_the_acs(world: SamlWorld) -> None:
    simulator = _simulator(world)
    _, params = _start(world, simulator)
    data = {**params, "email": "ada@example.com", "outcome": "login"}
    page = world.http.post(f"/sso/v1/simulator/{simulator.id}/login", data=data)
    assert page.status_code == 200
    assert f'action="{simulator.saml_config["sp_assertion_url"]}"' in page.text
    assert f"form-action {ENV_URL};" in page.headers["content-security-policy"]


def test_post_binding_request_is_read(world: SamlWorld) -> None:
    simulator = _simulator(world)
    _, params = _start(world, simulator)
    xml = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -zlib.MAX_WBITS)
    page = world.http.post(
        f"/sso/v1/simulator/{simulator.id}/sso",
        data={"SAMLRequest": base64.b64encode(xml).decode(), "RelayState": params["RelayState"]},
    )
    assert page.status_code == 200 and "Answering login request" in page.text


def test_request_with_a_doctype_is_refused_by_the_strict_parser(world: SamlWorld) -> None:
    simulator = _simulator(world)
    xml = (
        b'<!DOCTYPE x [<!ENTITY e "y">]>'
        b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1"/>'
    )
    page = world.http.post(
        f"/sso/v1/simulator/{simulator.id}/sso", data={"SAMLRequest": base64.b64encode(xml).decode()}
    )
    assert page.status_code == 400
    assert outcome(page) == "malformed_saml_response"


def test_other_connections_have_no_simulator(world: SamlWorld) -> None:
    answer = world.http.get(f"/sso/v1/simulator/{world.connection.id}/idp-initiated")
    assert answer.status_code == 404


def test_production_environments_have_no_simulator(rt: Runtime) -> None:
    url = "https://sso.acme.example"
    with rt.engine.begin() as db:
        env, _ = environments.create_environment(rt, db, env_type=EnvironmentType.PRODUCTION, url=url, display_name="P")
        environments.add_signing_key(rt, db, env.id, "simulator", status="active", common_name="sim")
        org_id = "org_prodtest0000000001"
        now = rt.clock.now()
        db.execute(
            insert(organizations).values(
                id=org_id,
                environment_id=env.id,
                display_name="Acme",
                external_id=None,
                slug=None,
                logo_url=None,
                metadata={},
                create_time=now,
                update_time=now,
            )
        )
        connection = insert_connection(
            rt,
            db,
            env_id=env.id,
            env_url=url,
            organization_id=org_id,
            type=ConnectionType.SAML,
            provider=Provider.IDP_SIMULATOR,
            enabled=True,
            saml_config=simulator_urls(url, "conn_x"),
        )
    with TestClient(create_app(rt), base_url=url, follow_redirects=False) as http:
        assert http.get(f"/sso/v1/simulator/{connection.id}/idp-initiated").status_code == 404
        made = http.post(
            f"/sso/v1/simulator/{connection.id}/login",
            data={"email": "a@example.com", "outcome": "idp_initiated"},
            headers={"Accept": "application/json"},
        )
        assert made.status_code == 404
        assert "SAMLResponse" not in made.text


def test_seeded_simulator_is_what_development_uses(rt: Runtime) -> None:
    seed: DevSeed = seed_development(rt, ENV_URL, CALLBACK)
    with rt.engine.connect() as db:
        simulator = find_connection(db, seed.environment.id, seed.connection_id)
    assert simulator is not None
    with TestClient(create_app(rt), base_url=ENV_URL) as http:
        assert http.get(f"/sso/v1/simulator/{simulator.id}/idp-initiated").status_code == 200
