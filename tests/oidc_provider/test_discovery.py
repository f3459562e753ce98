"""Discovery and JWKS: what SDKs fetch first, on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.oidc_provider.support import ENV_URL


def test_openid_configuration_lists_every_contract_field(http: TestClient) -> None:
    response = http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    doc = response.json()
    assert doc["issuer"] == ENV_URL
    assert doc["authorization_endpoint"] == f"{ENV_URL}/oauth/authorize"
    assert doc["token_endpoint"] == f"{ENV_URL}/oauth/token"
    assert doc["jwks_uri"] == f"{ENV_URL}/keys"
    assert doc["userinfo_endpoint"] == f"{ENV_URL}/userinfo"
    assert doc["end_session_endpoint"] == f"{ENV_URL}/oidc/logout"
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query"]
    assert doc["subject_types_supported"] == ["public"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "client_credentials"}
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_post", "client_secret_basic"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "profile", "email"} <= set(doc["scopes_supported"])
    assert {"sub", "email", "oid", "identities", "at_hash", "c_hash"} <= set(doc["claims_supported"])


def test_keys_publish_the_environment_signing_key(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    response = http.get("/keys")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    active = rt.keyring.active(seed.environment.id, "oidc")
    assert [k["kid"] for k in keys] == [active.kid]
    (key,) = keys
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}


def test_an_unknown_host_is_not_an_environment(http: TestClient) -> None:
    response = http.get("/.well-known/openid-configuration", headers={"host": "elsewhere.example"})
    assert response.status_code == 404
    assert "issuer" not in response.text
