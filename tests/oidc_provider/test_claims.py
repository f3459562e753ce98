"""ID token, access token and userinfo claims: the exact contract set, verified with an independent JWT library."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from entryway.model.environments import EnvironmentType
from entryway.model.profile import Profile
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from tests.oidc_provider.support import ENV_URL, code_form, issue_code, jane, left_half_sha256

ID_TOKEN_CLAIMS = {
    "iss", "aud", "azp", "sub", "amr", "oid", "sid", "iat", "exp", "nonce", "at_hash", "c_hash",
    "email", "email_verified", "name", "given_name", "family_name", "preferred_username", "groups",
    "identities",
}  # fmt: skip


def verified(http: TestClient, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set(http.get("/keys").json())
    decoded = jose_jwt.decode(token, keys, algorithms=["RS256"])
    return dict(decoded.header), dict(decoded.claims)


def redeem(http: TestClient, rt: Runtime, seed: DevSeed, **issue: Any) -> tuple[str, dict[str, Any]]:
    code = issue_code(rt, seed, **issue)
    response = http.post("/oauth/token", data=code_form(seed, code))
    assert response.status_code == 200, response.text
    return code, response.json()


def test_id_token_claims_are_exactly_the_contract_set(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code, body = redeem(http, rt, seed)
    header, claims = verified(http, body["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in http.get("/keys").json()["keys"]}
    custom = {"department", "employee_id"}
    assert set(claims) == ID_TOKEN_CLAIMS | custom
    assert claims["iss"] == ENV_URL
    assert claims["aud"] == [seed.client_id]
    assert claims["azp"] == seed.client_id
    assert claims["sub"] == f"{seed.connection_id};00u1jane"
    assert claims["amr"] == [seed.connection_id]
    assert claims["oid"] == seed.organization_id
    assert claims["sid"].startswith("ses_")
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] - claims["iat"] == rt.settings.id_token_ttl_seconds
    assert claims["at_hash"] == left_half_sha256(body["access_token"])
    assert claims["c_hash"] == left_half_sha256(code)
    assert claims["email"] == "jane@example.com"  # the custom attribute "email" never overrides it
    assert claims["email_verified"] is True
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Jane Doe", "Jane", "Doe")
    assert claims["preferred_username"] == "jane@example.com"
    assert claims["groups"] == ["engineering", "admins"]
    assert (claims["department"], claims["employee_id"]) == ("R&D", "4711")
    assert claims["identities"] == [
        {
            "connection_id": seed.connection_id,
            "organization_id": seed.organization_id,
            "connection_type": "SAML",
            "provider_name": "IDP_SIMULATOR",
            "provider_raw_attributes": jane().raw_attributes,
        }
    ]


def test_claims_without_a_value_are_left_out(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    bare = Profile(subject="u-2", email="bob@example.com", preferred_username="bob")
    _, body = redeem(http, rt, seed, profile=bare, nonce=None)
    _, claims = verified(http, body["id_token"])
    assert "nonce" not in claims and "groups" not in claims
    assert not {"name", "given_name", "family_name"} & set(claims)
    assert claims["preferred_username"] == "bob"
    assert claims["sub"] == f"{seed.connection_id};u-2"


def test_access_token_claims(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    _, body = redeem(http, rt, seed)
    header, claims = verified(http, body["access_token"])
    assert header["typ"] == "at+jwt"
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "oid", "sid"}
    _, id_claims = verified(http, body["id_token"])
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["oid"] == seed.organization_id and claims["client_id"] == seed.client_id
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 86399


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_returns_the_profile_claims(http: TestClient, rt: Runtime, seed: DevSeed, method: str) -> None:
    _, body = redeem(http, rt, seed)
    response = http.request(method, "/userinfo", headers={"authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    info = response.json()
    _, id_claims = verified(http, body["id_token"])
    protocol = {"iss", "aud", "azp", "amr", "sid", "iat", "exp", "nonce", "at_hash", "c_hash"}
    assert info == {k: v for k, v in id_claims.items() if k not in protocol}


@pytest.mark.parametrize(
    ("authorization", "has_error"),
    [(None, False), ("Basic abc", False), ("Bearer not-a-jwt", True), ("Bearer a.b.c", True)],
)
def test_userinfo_without_a_valid_token_is_401_with_a_bearer_challenge(
    http: TestClient, seed: DevSeed, authorization: str | None, has_error: bool
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = http.get("/userinfo", headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is has_error


def test_userinfo_refuses_a_token_of_another_environment(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        other, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:9999", display_name="Other"
        )
    foreign = access_tokens.mint(rt, other, client_id=other_client, subject="x", ttl_seconds=60, session_id="ses_x")
    response = http.get("/userinfo", headers={"authorization": f"Bearer {foreign.token}"})
    assert response.status_code == 401
