"""Who may call the management API: bearer tokens, their environment, their client and their scopes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from entryway.model.environments import EnvironmentType
from entryway.model.scopes import MANAGEMENT_SCOPES
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error
from tests.api.conftest import client_with, token_for

# Every management call and the scope it needs; {org} and {client} are filled in by the test.
CALLS = [
    ("GET", "/api/v1/organizations", "organizations:read"),
    ("POST", "/api/v1/organizations", "organizations:write"),
    ("GET", "/api/v1/organizations/{org}", "organizations:read"),
    ("PATCH", "/api/v1/organizations/{org}", "organizations:write"),
    ("DELETE", "/api/v1/organizations/{org}", "organizations:write"),
    ("GET", "/api/v1/organizations:external/entryway-test-organization", "organizations:read"),
    ("GET", "/api/v1/organizations/{org}/domains", "domains:read"),
    ("POST", "/api/v1/organizations/{org}/domains", "domains:write"),
    ("GET", "/api/v1/organizations/{org}/domains/dom_x", "domains:read"),
    ("DELETE", "/api/v1/organizations/{org}/domains/dom_x", "domains:write"),
    ("PATCH", "/api/v1/organizations/{org}/domains/dom_x:verify", "domains:write"),
    ("GET", "/api/v1/organizations/{org}/connections", "connections:read"),
    ("POST", "/api/v1/organizations/{org}/connections", "connections:write"),
    ("GET", "/api/v1/organizations/{org}/connections/conn_x", "connections:read"),
    ("PATCH", "/api/v1/organizations/{org}/connections/conn_x", "connections:write"),
    ("DELETE", "/api/v1/organizations/{org}/connections/conn_x", "connections:write"),
    ("PATCH", "/api/v1/organizations/{org}/connections/conn_x:enable", "connections:write"),
    ("PATCH", "/api/v1/organizations/{org}/connections/conn_x:disable", "connections:write"),
    ("GET", "/api/v1/connections", "connections:read"),
    ("GET", "/api/v1/environment", "environment:read"),
    ("PATCH", "/api/v1/environment", "environment:write"),
    ("GET", "/api/v1/environment/redirect-uris", "environment:read"),
    ("POST", "/api/v1/environment/redirect-uris", "environment:write"),
    ("DELETE", "/api/v1/environment/redirect-uris", "environment:write"),
    ("PUT", "/api/v1/environment/initiate-login-uri", "environment:write"),
    ("GET", "/api/v1/clients/{client}/secrets", "clients:read"),
    ("POST", "/api/v1/clients/{client}/secrets", "clients:write"),
    ("PUT", "/api/v1/clients/{client}/secrets/sec_x", "clients:write"),
    ("DELETE", "/api/v1/clients/{client}/secrets/sec_x", "clients:write"),
    ("GET", "/api/v1/logs/authentication/requests", "logs:read"),
    ("GET", "/api/v1/webhooks", "webhooks:read"),
    ("POST", "/api/v1/webhooks", "webhooks:write"),
    ("GET", "/api/v1/webhooks/event_types", "webhooks:read"),
    ("GET", "/api/v1/webhooks/wh_x", "webhooks:read"),
    ("PATCH", "/api/v1/webhooks/wh_x", "webhooks:write"),
    ("DELETE", "/api/v1/webhooks/wh_x", "webhooks:write"),
    ("POST", "/api/v1/webhooks/wh_x:rotate_secret", "webhooks:write"),
    ("POST", "/api/v1/webhooks/wh_x:test", "webhooks:write"),
    ("GET", "/api/v1/webhooks/wh_x/deliveries", "webhooks:read"),
    ("GET", "/api/v1/webhooks/wh_x/deliveries/dlv_x", "webhooks:read"),
    ("POST", "/api/v1/webhooks/wh_x/deliveries/dlv_x:replay", "webhooks:write"),
    ("GET", "/api/v1/events", "webhooks:read"),
    ("GET", "/api/v1/events/evt_x", "webhooks:read"),
]


def _request(client: TestClient, method: str, url: str) -> int:
    return client.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None).status_code


@pytest.mark.parametrize(("method", "path", "scope"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
def test_each_call_needs_its_scope(rt: Runtime, seed: DevSeed, method: str, path: str, scope: str) -> None:
    others = [s for s in MANAGEMENT_SCOPES if s != scope]
    with client_with(rt, seed, token_for(rt, seed, others)) as without:
        response = without.request(
            method,
            path.format(org=seed.organization_id, client=seed.client_id),
            json={} if method in ("POST", "PUT", "PATCH") else None,
        )
        assert_error(response, 403)
        assert scope in response.json()["message"]
    # an API client holding just this scope gets past authorization (to a 2xx, 400 or 404)
    with rt.engine.begin() as conn:
        holder = credentials.create_api_client(rt, conn, seed.environment.id, "one scope", [scope])
    with client_with(rt, seed, token_for(rt, seed, [scope], client_id=holder.id)) as with_scope:
        url = path.format(org=seed.organization_id, client=holder.id)
        assert _request(with_scope, method, url) not in (401, 403)


def test_no_token_is_401_with_a_bearer_challenge(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/organizations")
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "bearer not-a-jwt", "Token x"])
def test_malformed_authorization_is_401(anonymous: TestClient, header: str) -> None:
    assert_error(anonymous.get("/api/v1/organizations", headers={"Authorization": header}), 401)


def test_expired_token_is_401(rt: Runtime, seed: DevSeed) -> None:
    from entryway.oidc_provider import access_tokens

    expired = access_tokens.mint(
        rt, seed.environment, client_id=seed.client_id, subject=seed.client_id, ttl_seconds=-60, scopes=["*"]
    ).token
    with client_with(rt, seed, expired) as client:
        response = client.get("/api/v1/organizations")
    assert_error(response, 401)
    assert "invalid_token" in response.headers["www-authenticate"]


def test_token_of_another_environment_is_401(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        other, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://other.localhost:9000", display_name="Other"
        )
    from entryway.oidc_provider import access_tokens

    foreign = access_tokens.mint(rt, other, client_id=other_client, subject=other_client, ttl_seconds=600, scopes=["*"])
    with client_with(rt, seed, foreign.token) as client:
        assert_error(client.get("/api/v1/organizations"), 401)
    # signed by this environment's key, but naming another environment's client
    with client_with(rt, seed, token_for(rt, seed, ["*"], client_id=other_client)) as client:
        assert_error(client.get("/api/v1/organizations"), 401)


def test_token_without_scopes_claim_grants_nothing(rt: Runtime, seed: DevSeed) -> None:
    with client_with(rt, seed, token_for(rt, seed, None)) as client:
        assert_error(client.get("/api/v1/organizations"), 403)


def test_scopes_are_those_of_the_token_and_of_the_client(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        limited = credentials.create_api_client(rt, conn, seed.environment.id, "reader", ["organizations:read"])
    # the token claims everything, but the client holds only organizations:read
    with client_with(rt, seed, token_for(rt, seed, ["*"], client_id=limited.id)) as client:
        assert client.get("/api/v1/organizations").status_code == 200
        assert_error(client.post("/api/v1/organizations", json={"display_name": "X"}), 403)
        assert_error(client.get("/api/v1/environment"), 403)


def test_unknown_host_is_a_contract_404(rt: Runtime, seed: DevSeed) -> None:
    with client_with(rt, seed, token_for(rt, seed, ["*"])) as client:
        response = client.get("/api/v1/organizations", headers={"Host": "nowhere.example:1"})
    assert_error(response, 404)


def test_unknown_call_is_a_contract_404(api: TestClient) -> None:
    assert_error(api.get("/api/v1/no-such-thing"), 404)
    assert_error(api.post("/api/v1/organizations/org_x/unknown", json={}), 404)
