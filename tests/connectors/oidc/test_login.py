"""Logins through an OIDC connection against a real (test) OpenID Provider: success with either client
authentication method, PKCE, userinfo merged, attribute mapping; each failure with its contract code."""

from __future__ import annotations

import jwt
from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.connectors.oidc.support import (
    ENV_URL,
    app_result,
    callback,
    last_failure,
    login,
    make_connection,
    redeem,
    start,
)


def test_login_succeeds_with_pkce_post_auth_and_userinfo(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    op.userinfo_claims = {"given_name": "Jane", "family_name": "Doe", "department": "R&D"}
    started = start(http, seed, conn.id)
    assert started.location.startswith(f"{op.base}/authorize?")
    params = started.params
    assert params["redirect_uri"] == f"{ENV_URL}/sso/v1/oidc/{conn.id}/callback"
    assert params["scope"] == "openid profile email" and params["code_challenge_method"] == "S256"
    assert params["state"] != "app-state" and params["nonce"] != "app-nonce"  # the upstream login has its own
    code = op.grant(params, groups=["eng", "ops"])
    result = app_result(callback(http, conn.id, code=code, state=params["state"]))
    assert result["state"] == "app-state"
    sent = op.token_requests[-1]
    assert sent["client_secret"] == CLIENT_SECRET and sent["client_id"] == CLIENT_ID
    assert len(sent["code_verifier"]) == 43
    tokens = redeem(http, seed, result["code"])
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["sub"] == f"{conn.id};00u-jane"
    assert claims["email"] == "jane@acme.test" and claims["given_name"] == "Jane"
    assert claims["groups"] == ["eng", "ops"] and claims["nonce"] == "app-nonce"
    identity = claims["identities"][0]
    assert identity["connection_type"] == "OIDC" and identity["provider_name"] == "OKTA"
    assert identity["provider_raw_attributes"]["department"] == "R&D"
    assert "nonce" not in identity["provider_raw_attributes"]


def test_basic_client_authentication_form_encodes_the_credentials(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.token_auth = "basic"
    conn = make_connection(ort, seed, op, token_auth_type="BASIC_AUTH")
    result = app_result(login(http, seed, op, conn.id))
    assert "code" in result
    assert "client_secret" not in op.token_requests[-1]


def test_pkce_can_be_turned_off(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(ort, seed, op, pkce_enabled=False)
    started = start(http, seed, conn.id)
    assert "code_challenge" not in started.params
    code = op.grant(started.params)
    assert "code" in app_result(callback(http, conn.id, code=code, state=started.params["state"]))
    assert "code_verifier" not in op.token_requests[-1]


def test_wrong_client_secret_is_failed_to_exchange_token(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op, client_secret="not-the-secret")
    result = app_result(login(http, seed, op, conn.id))
    assert result["error"] == "failed_to_exchange_token" and result["state"] == "app-state"
    failure = last_failure(ort)
    assert failure["diagnosis"]["idp_error"] == "invalid_client"
    assert failure["diagnosis"]["got"] == "HTTP 401"
    assert "not-the-secret" not in str(failure)


def test_an_idp_error_response_reaches_the_app(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    response = callback(
        http, conn.id, error="access_denied", error_description="user said no", state=started.params["state"]
    )
    result = app_result(response)
    assert result["error"] == "access_denied" and result["state"] == "app-state"
    assert last_failure(ort)["diagnosis"]["idp_error_description"] == "user said no"
    assert op.token_requests == []


def test_userinfo_about_another_user_is_refused(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(ort, seed, op)
    op.userinfo_claims = {"sub": "someone-else"}
    assert app_result(login(http, seed, op, conn.id))["error"] == "user_info_retrieve_failed"


def test_userinfo_failure_is_user_info_retrieve_failed(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    op.userinfo_status = 503
    assert app_result(login(http, seed, op, conn.id))["error"] == "user_info_retrieve_failed"
    assert last_failure(ort)["diagnosis"]["got"] == "HTTP 503"


def test_manual_configuration_without_discovery(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(
        ort, seed, op, authorize_uri=f"{op.base}/authorize", token_uri=f"{op.base}/token", jwks_uri=f"{op.base}/jwks"
    )
    assert "code" in app_result(login(http, seed, op, conn.id))
    assert ("GET", "/.well-known/openid-configuration") not in op.requests
    assert ("GET", "/userinfo") not in op.requests  # no user_info_uri given: the ID token alone


def test_attribute_mapping_names_the_claims(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    mapping = {"email": "upn", "given_name": "first", "employee_id": "emp"}
    conn = make_connection(ort, seed, op, attribute_mapping=mapping)
    result = app_result(login(http, seed, op, conn.id, upn="j.doe@acme.test", first="Janet", emp=4711))
    claims = jwt.decode(redeem(http, seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["email"] == "j.doe@acme.test" and claims["given_name"] == "Janet" and claims["employee_id"] == 4711


def test_missing_email_is_mandatory_attribute_missing(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    op.id_token_claims = {"email": None}
    op.userinfo_claims = {"email": None}
    assert app_result(login(http, seed, op, conn.id))["error"] == "mandatory_attribute_missing"


def test_an_unverified_email_is_passed_on_as_unverified(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    result = app_result(login(http, seed, op, conn.id, email_verified=False))
    claims = jwt.decode(redeem(http, seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["email_verified"] is False


def test_onelogin_preset_splits_a_groups_string(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(ort, seed, op, provider="ONELOGIN")
    result = app_result(login(http, seed, op, conn.id, groups="eng;ops; admins"))
    claims = jwt.decode(redeem(http, seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["groups"] == ["eng", "ops", "admins"]
    other = make_connection(ort, seed, op, provider="CUSTOM")
    result = app_result(login(http, seed, op, other.id, groups="eng;ops"))
    claims = jwt.decode(redeem(http, seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["groups"] == ["eng;ops"]


def test_entra_preset_falls_back_to_the_upn_for_email(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.id_token_claims = {"email": None, "email_verified": None}
    op.userinfo_claims = {"email": None}
    conn = make_connection(ort, seed, op, provider="MICROSOFT_AD")
    result = app_result(login(http, seed, op, conn.id, preferred_username="jane@contoso.test"))
    claims = jwt.decode(redeem(http, seed, result["code"])["id_token"], options={"verify_signature": False})
    assert claims["email"] == "jane@contoso.test" and claims["email_verified"] is True
    generic = make_connection(ort, seed, op, provider="CUSTOM")
    assert app_result(login(http, seed, op, generic.id, preferred_username="jane@contoso.test"))["error"] == (
        "mandatory_attribute_missing"
    )
