"""SSO connections over the API: manual SAML configuration, fail-closed enabling, OIDC storage, search."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entryway.keys.material import certificate_body, certificate_pem, generate_rsa_key, self_signed_certificate
from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import connections as connection_service
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error, dump
from tests.api.conftest import client_with, token_for


@pytest.fixture(scope="module")
def cert_pem() -> str:
    return certificate_pem(self_signed_certificate(generate_rsa_key(), "Acme IdP", years=2))


@pytest.fixture
def org_id(api: TestClient) -> str:
    return str(api.post("/api/v1/organizations", json={"display_name": "Acme"}).json()["organization"]["id"])


def base(org_id: str) -> str:
    return f"/api/v1/organizations/{org_id}/connections"


def saml(cert: str | None = None, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"idp_entity_id": "https://idp.acme.com", "idp_sso_url": "https://idp.acme.com/sso"}
    if cert:
        config["idp_certificates"] = [cert]
    return {"type": "SAML", "provider": "OKTA", "saml_config": {**config, **extra}}


def create(api: TestClient, org_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(base(org_id), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["connection"]
    return created


def test_create_saml_fixes_sp_values_and_shows_certificate_expiry(
    api: TestClient, org_id: str, cert_pem: str, seed: DevSeed
) -> None:
    conn = create(api, org_id, saml(cert_pem, force_authn=True))
    cid = conn["id"]
    assert cid.startswith("conn_") and conn["enabled"] is False and conn["missing_configuration"] == []
    config = conn["saml_config"]
    env_url = seed.environment.url
    assert config["sp_entity_id"] == f"{env_url}/sso/v1/saml/{cid}"
    assert config["sp_assertion_url"] == f"{env_url}/sso/v1/saml/{cid}/callback"
    assert config["sp_metadata_url"] == f"{env_url}/sso/v1/saml/{cid}/metadata"
    assert config["force_authn"] is True and config["idp_sso_request_binding"] == "HTTP_REDIRECT"
    [cert] = config["idp_certificates"]
    assert cert["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert cert["expire_time"].endswith("Z") and cert["expire_time"][:4].isdigit()
    assert len(cert["fingerprint_sha256"]) == 64
    assert api.get(f"{base(org_id)}/{cid}").json() == {"connection": conn}


def test_bare_base64_certificates_are_accepted_and_stored_as_pem(
    rt: Runtime, api: TestClient, org_id: str, cert_pem: str, seed: DevSeed
) -> None:
    conn = create(api, org_id, saml(certificate_body(cert_pem)))
    assert conn["saml_config"]["idp_certificates"][0]["certificate"] == cert_pem
    with rt.engine.connect() as db:
        stored = connection_service.get_connection(db, seed.environment.id, conn["id"])
    assert stored.saml_config["idp_certificates"] == [cert_pem]


def test_invalid_certificate_is_named_by_index_and_nothing_is_stored(
    rt: Runtime, api: TestClient, org_id: str, cert_pem: str
) -> None:
    before = dump(rt.engine)
    body = saml()
    body["saml_config"]["idp_certificates"] = [
        cert_pem,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----",
        base64.b64encode(b"not der").decode(),
    ]
    found = assert_error(
        api.post(base(org_id), json=body), 400, "saml_config.idp_certificates[1]", "saml_config.idp_certificates[2]"
    )
    assert "saml_config.idp_certificates[0]" not in found
    assert dump(rt.engine) == before


def test_every_invalid_field_is_listed(rt: Runtime, api: TestClient, org_id: str) -> None:
    before = dump(rt.engine)
    body = {
        "type": "SAML",
        "provider": "NOT_A_PROVIDER",
        "saml_config": {
            "idp_entity_id": "has space",
            "idp_sso_url": "ftp://idp.acme.com",
            "idp_sso_request_binding": "SOAP",
            "want_request_signed": "yes",
            "surprise": 1,
        },
        "attribute_mapping": {"email": 5},
    }
    assert_error(
        api.post(base(org_id), json=body),
        400,
        "provider",
        "saml_config.idp_sso_request_binding",
        "saml_config.want_request_signed",
        "saml_config.surprise",
        "attribute_mapping.email",
    )
    # shapes right, rules broken: the service names each field
    body = saml(idp_entity_id="has space", idp_sso_url="ftp://idp.acme.com", idp_name_id_format="email")
    body["attribute_mapping"] = {"given_name": "first", "sub": "uid"}
    assert_error(
        api.post(base(org_id), json=body),
        400,
        "saml_config.idp_entity_id",
        "saml_config.idp_sso_url",
        "saml_config.idp_name_id_format",
        "attribute_mapping.email",
        "attribute_mapping.sub",
    )
    assert_error(api.post(base(org_id), json={"provider": "OKTA"}), 400, "type")
    assert dump(rt.engine) == before


def test_metadata_that_is_not_saml_metadata_is_refused_naming_the_field(api: TestClient, org_id: str) -> None:
    # Metadata import itself is tested in tests/connectors/saml/test_metadata_import.py.
    body = {"type": "SAML", "provider": "OKTA", "saml_config": {"idp_metadata_xml": "<EntityDescriptor/>"}}
    found = assert_error(api.post(base(org_id), json=body), 400, "saml_config.idp_metadata_xml")
    assert found["saml_config.idp_metadata_xml"].startswith("invalid_saml_metadata: ")


def test_enable_fails_closed_and_lists_what_is_missing(
    rt: Runtime, api: TestClient, org_id: str, cert_pem: str
) -> None:
    conn = create(api, org_id, {"type": "SAML", "provider": "CUSTOM"})
    assert conn["missing_configuration"] == ["idp_entity_id", "idp_sso_url", "idp_certificates"]
    before = dump(rt.engine)
    response = api.patch(f"{base(org_id)}/{conn['id']}:enable")
    assert_error(response, 400, "saml_config.idp_entity_id", "saml_config.idp_sso_url", "saml_config.idp_certificates")
    assert dump(rt.engine) == before
    patched = api.patch(f"{base(org_id)}/{conn['id']}", json={"saml_config": saml(cert_pem)["saml_config"]})
    assert patched.status_code == 200, patched.text
    enabled = api.patch(f"{base(org_id)}/{conn['id']}:enable")
    assert enabled.status_code == 200 and enabled.json()["connection"]["enabled"] is True
    # an enabled connection cannot be edited into an incomplete one
    before = dump(rt.engine)
    assert_error(
        api.patch(f"{base(org_id)}/{conn['id']}", json={"saml_config": {"idp_certificates": []}}),
        400,
        "saml_config.idp_certificates",
    )
    assert_error(
        api.patch(f"{base(org_id)}/{conn['id']}", json={"saml_config": {"idp_sso_url": None}}),
        400,
        "saml_config.idp_sso_url",
    )
    assert dump(rt.engine) == before
    disabled = api.patch(f"{base(org_id)}/{conn['id']}:disable")
    assert disabled.status_code == 200 and disabled.json()["connection"]["enabled"] is False


def test_patch_merges_config_and_keeps_sp_values_read_only(
    rt: Runtime, api: TestClient, org_id: str, cert_pem: str
) -> None:
    conn = create(api, org_id, saml(cert_pem))
    url = f"{base(org_id)}/{conn['id']}"
    response = api.patch(url, json={"provider": "ADFS", "saml_config": {"allow_idp_initiated_login": True}})
    assert response.status_code == 200, response.text
    changed = response.json()["connection"]
    assert changed["provider"] == "ADFS" and changed["saml_config"]["allow_idp_initiated_login"] is True
    assert changed["saml_config"]["idp_entity_id"] == "https://idp.acme.com"
    assert changed["saml_config"]["idp_certificates"] == conn["saml_config"]["idp_certificates"]
    before = dump(rt.engine)
    assert_error(
        api.patch(url, json={"saml_config": {"sp_entity_id": "https://elsewhere"}}), 400, "saml_config.sp_entity_id"
    )
    assert_error(api.patch(url, json={"type": "OIDC"}), 400, "type")
    assert_error(api.patch(url, json={"enabled": True}), 400, "enabled")
    assert_error(api.patch(url, json={"oidc_config": {"client_id": "x"}}), 400, "oidc_config")
    assert dump(rt.engine) == before
    # the same SP value is not a change
    same = api.patch(url, json={"saml_config": {"sp_entity_id": conn["saml_config"]["sp_entity_id"]}})
    assert same.status_code == 200


def test_sp_values_may_be_set_when_importing_a_connection(api: TestClient, org_id: str, cert_pem: str) -> None:
    body = saml(cert_pem, sp_entity_id="https://old.example.com/sp", sp_assertion_url="https://old.example.com/acs")
    conn = create(api, org_id, body)
    assert conn["saml_config"]["sp_entity_id"] == "https://old.example.com/sp"
    assert conn["saml_config"]["sp_assertion_url"] == "https://old.example.com/acs"


def test_http_sso_url_is_allowed_in_development(api: TestClient, org_id: str, cert_pem: str) -> None:
    conn = create(api, org_id, saml(cert_pem, idp_sso_url="http://localhost:9000/sso"))
    assert conn["saml_config"]["idp_sso_url"] == "http://localhost:9000/sso"


def test_production_requires_https_and_has_no_simulator(rt: Runtime, seed: DevSeed, cert_pem: str) -> None:
    with rt.engine.begin() as conn:
        prod, prod_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://sso.acme.test", display_name="Production"
        )
    from entryway.app import create_app
    from entryway.oidc_provider import access_tokens

    token = access_tokens.mint(rt, prod, client_id=prod_client, subject=prod_client, ttl_seconds=600, scopes=["*"])
    with TestClient(create_app(rt), base_url=prod.url, headers={"Authorization": f"Bearer {token.token}"}) as api:
        org = api.post("/api/v1/organizations", json={"display_name": "Acme"}).json()["organization"]["id"]
        assert_error(
            api.post(base(org), json=saml(cert_pem, idp_sso_url="http://idp.acme.com/sso")),
            400,
            "saml_config.idp_sso_url",
        )
        assert_error(api.post(base(org), json={"type": "SAML", "provider": "IDP_SIMULATOR"}), 400, "provider")
        conn = api.post(base(org), json=saml(cert_pem)).json()["connection"]
        assert conn["saml_config"]["sp_entity_id"] == f"https://sso.acme.test/sso/v1/saml/{conn['id']}"


def test_simulator_connection_in_development_is_ready_to_enable(api: TestClient, org_id: str) -> None:
    conn = create(api, org_id, {"type": "SAML", "provider": "IDP_SIMULATOR"})
    assert conn["missing_configuration"] == []
    assert api.patch(f"{base(org_id)}/{conn['id']}:enable").json()["connection"]["enabled"] is True


def test_oidc_secret_is_sealed_never_returned_and_an_unreadable_issuer_is_refused_on_save(
    rt: Runtime, api: TestClient, org_id: str, seed: DevSeed
) -> None:
    body = {
        "type": "OIDC",
        "provider": "GOOGLE",
        "oidc_config": {
            # .invalid never resolves (RFC 6761), so the save fails at discovery with or without internet access
            "issuer": "https://idp.example.invalid",
            "client_id": "abc.apps.googleusercontent.com",
            "client_secret": "very-secret-value",
            "scopes": ["openid", "email"],
        },
    }
    before = dump(rt.engine)
    refused = api.post(base(org_id), json=body)
    assert_error(refused, 400, "oidc_config.issuer")
    assert (
        "could not be resolved"
        in refused.json()["details"][0]["validation_error_info"]["field_violations"][0]["description"]
    )
    assert dump(rt.engine) == before
    # Without an issuer the connection is a draft: stored (secret sealed), not enabled until its IdP is named.
    draft = {**body, "oidc_config": {k: v for k, v in body["oidc_config"].items() if k != "issuer"}}
    conn = create(api, org_id, draft)
    assert "very-secret-value" not in str(conn)
    config = conn["oidc_config"]
    assert "client_secret" not in config and config["client_secret_set"] is True
    assert config["redirect_uri"] == f"{seed.environment.url}/sso/v1/oidc/{conn['id']}/callback"
    assert conn["missing_configuration"] == ["issuer"]
    assert "very-secret-value" not in str(dump(rt.engine))
    with rt.engine.connect() as db:
        stored = connection_service.get_connection(db, seed.environment.id, conn["id"])
    assert connection_service.oidc_client_secret(rt, stored) == "very-secret-value"
    listed = api.get(base(org_id)).json()
    assert "very-secret-value" not in str(listed)
    before = dump(rt.engine)
    assert_error(api.patch(f"{base(org_id)}/{conn['id']}:enable"), 400, "oidc_config.issuer")
    assert_error(api.patch(f"{base(org_id)}/{conn['id']}", json={"oidc_config": body["oidc_config"]}), 400)
    assert dump(rt.engine) == before
    assert_error(api.post(base(org_id), json={**draft, "saml_config": {}}), 400, "saml_config")
    rotated = api.patch(f"{base(org_id)}/{conn['id']}", json={"oidc_config": {"client_secret": "new-secret"}})
    assert rotated.status_code == 200
    with rt.engine.connect() as db:
        stored = connection_service.get_connection(db, seed.environment.id, conn["id"])
    assert connection_service.oidc_client_secret(rt, stored) == "new-secret"
    assert stored.oidc_config["client_id"] == "abc.apps.googleusercontent.com"


def test_list_search_and_delete(api: TestClient, org_id: str, cert_pem: str, seed: DevSeed) -> None:
    made = [create(api, org_id, saml(cert_pem))["id"] for _ in range(3)]
    page = api.get(base(org_id), params={"page_size": 2}).json()
    rest = api.get(base(org_id), params={"page_size": 2, "page_token": page["next_page_token"]}).json()
    assert [c["id"] for c in page["connections"] + rest["connections"]] == made
    assert page["total_size"] == 3 and rest["next_page_token"] == ""
    everywhere = api.get("/api/v1/connections").json()
    assert everywhere["total_size"] == 4  # with the simulator connection
    by_org = api.get("/api/v1/connections", params={"organization_id": org_id}).json()
    assert [c["id"] for c in by_org["connections"]] == made
    by_domain = api.get("/api/v1/connections", params={"domain": "EXAMPLE.com"}).json()
    assert [c["id"] for c in by_domain["connections"]] == [seed.connection_id]
    assert api.get("/api/v1/connections", params={"domain": "nobody.test"}).json()["total_size"] == 0
    mismatch = {"domain": "example.com", "organization_id": org_id}
    assert api.get("/api/v1/connections", params=mismatch).json()["connections"] == []
    assert api.delete(f"{base(org_id)}/{made[0]}").json() == {}
    assert_error(api.get(f"{base(org_id)}/{made[0]}"), 404)
    # a connection is reached only through its own organization
    assert_error(api.get(f"{base(org_id)}/{seed.connection_id}"), 404)
    assert_error(api.patch(f"{base(org_id)}/{seed.connection_id}:disable"), 404)
    assert_error(api.delete(f"{base(org_id)}/{seed.connection_id}"), 404)
    assert_error(api.post(base("org_nope"), json=saml(cert_pem)), 404)


def test_a_connection_of_another_environment_is_not_found(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        other, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://other.localhost:9000", display_name="Other"
        )
    from entryway.oidc_provider import access_tokens

    token = access_tokens.mint(rt, other, client_id=other_client, subject=other_client, ttl_seconds=60, scopes=["*"])
    from entryway.app import create_app

    with TestClient(create_app(rt), base_url=other.url, headers={"Authorization": f"Bearer {token.token}"}) as api:
        assert_error(api.get(f"{base(seed.organization_id)}/{seed.connection_id}"), 404)
        assert api.get("/api/v1/connections").json()["total_size"] == 0
    with client_with(rt, seed, token_for(rt, seed, ["*"])) as mine:
        assert mine.get("/api/v1/connections").json()["total_size"] == 1
