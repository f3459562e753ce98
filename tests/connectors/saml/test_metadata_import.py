"""IdP metadata import through the management API: pasted XML and URLs, the fetch policy, refresh history, and
logins with the values and certificates the metadata brought (including a rollover overlap).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entryway.connectors.saml.idp_metadata import MetadataProblem
from entryway.connectors.saml.metadata_fetch import fetch_metadata
from entryway.keys.material import certificate_fingerprint
from entryway.services.connections import find_connection
from tests.api.checks import assert_error, dump
from tests.api.conftest import client_with, token_for
from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import IdpKey, build_response, encode, shared_key, sign_assertion
from tests.support.saml_http import Served, serving
from tests.support.saml_metadata import POST, REDIRECT, IdpMetadataFields, idp_metadata, sp_metadata

IDP = "https://idp.acme.example/metadata"
SSO = "https://idp.acme.example/sso"
SLO = "https://idp.acme.example/slo"


def metadata_of(*keys: IdpKey, **options: Any) -> bytes:
    return idp_metadata(IdpMetadataFields(IDP, {REDIRECT: SSO, POST: SSO + "/post"}, list(keys), **options))


@pytest.fixture
def api(world: SamlWorld) -> Iterator[TestClient]:
    with client_with(world.rt, world.seed, token_for(world.rt, world.seed, ["*"])) as client:
        yield client


@pytest.fixture
def http(world: SamlWorld) -> Iterator[Served]:
    with serving() as served:
        yield served


def base(world: SamlWorld) -> str:
    return f"/api/v1/organizations/{world.seed.organization_id}/connections"


def create(api: TestClient, world: SamlWorld, saml_config: dict[str, Any], status: int = 201) -> Any:
    response = api.post(base(world), json={"type": "SAML", "provider": "CUSTOM", "saml_config": saml_config})
    assert response.status_code == status, response.text
    return response


def allow_private(world: SamlWorld) -> None:
    world.rt.settings = replace(world.rt.settings, allow_private_fetch=True)


def fingerprint(key: IdpKey) -> str:
    return certificate_fingerprint(key.certificate)


def use_connection(world: SamlWorld, connection_id: str) -> None:
    with world.rt.engine.connect() as db:
        found = find_connection(db, world.env_id, connection_id)
    assert found is not None
    world.connection = found


def login_signed_by(world: SamlWorld, key: IdpKey) -> str:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), key)
    return outcome(world.post(encode(response), request.id))


def test_pasted_metadata_fills_the_idp_values_and_both_rollover_certificates_sign(
    api: TestClient, world: SamlWorld
) -> None:
    old, new = shared_key("idp"), shared_key("idp-next")
    document = metadata_of(old, new, slo={REDIRECT: SLO}, want_authn_requests_signed=True, bom=True)
    created = create(api, world, {"idp_metadata_xml": document.decode("utf-8")}).json()["connection"]
    config = created["saml_config"]
    assert created["missing_configuration"] == []
    assert (config["idp_entity_id"], config["idp_sso_url"], config["idp_sso_request_binding"]) == (
        IDP,
        SSO,
        "HTTP_REDIRECT",
    )
    assert config["idp_slo_url"] == SLO and config["idp_want_authn_requests_signed"] is True
    assert [c["fingerprint_sha256"] for c in config["idp_certificates"]] == [fingerprint(old), fingerprint(new)]
    assert all(c["expire_time"].startswith("2099-01-01") for c in config["idp_certificates"])
    assert "idp_metadata_xml" not in config and len(config["idp_metadata_sha256"]) == 64
    assert config["idp_metadata_changes"][-1]["certificates_added"] == sorted([fingerprint(old), fingerprint(new)])
    enabled = api.patch(f"{base(world)}/{created['id']}:enable")
    assert enabled.status_code == 200, enabled.text
    use_connection(world, created["id"])
    assert login_signed_by(world, old) == "code"
    assert login_signed_by(world, new) == "code"
    assert login_signed_by(world, shared_key("attacker")) == "signature_validation_failed"


def test_values_given_by_hand_win_over_the_metadata(api: TestClient, world: SamlWorld) -> None:
    document = metadata_of(shared_key("idp")).decode()
    config = create(api, world, {"idp_metadata_xml": document, "idp_sso_request_binding": "HTTP_POST"}).json()
    assert config["connection"]["saml_config"]["idp_sso_request_binding"] == "HTTP_POST"


def test_sp_metadata_where_idp_metadata_belongs_is_a_clear_400_and_stores_nothing(
    api: TestClient, world: SamlWorld
) -> None:
    before = dump(world.rt.engine)
    document = sp_metadata("https://other.example/sp", "https://other.example/acs", shared_key("idp")).decode()
    found = assert_error(create(api, world, {"idp_metadata_xml": document}, 400), 400, "saml_config.idp_metadata_xml")
    assert "service provider (SP) metadata, not identity provider metadata" in found["saml_config.idp_metadata_xml"]
    assert found["saml_config.idp_metadata_xml"].startswith("invalid_saml_metadata: ")
    assert dump(world.rt.engine) == before


def test_metadata_url_on_a_private_address_is_refused_unless_the_operator_allows_it(
    api: TestClient, world: SamlWorld, http: Served
) -> None:
    url = http.put("/metadata.xml", metadata_of(shared_key("idp")))
    found = assert_error(create(api, world, {"idp_metadata_url": url}, 400), 400, "saml_config.idp_metadata_url")
    assert "non-public address" in found["saml_config.idp_metadata_url"] and http.hits == []
    allow_private(world)
    config = create(api, world, {"idp_metadata_url": url}).json()["connection"]["saml_config"]
    assert config["idp_metadata_url"] == url and config["idp_entity_id"] == IDP and http.hits == ["/metadata.xml"]


def test_refresh_records_a_certificate_rollover_and_keeps_logins_working(
    api: TestClient, world: SamlWorld, http: Served
) -> None:
    allow_private(world)
    old, new = shared_key("idp"), shared_key("idp-next")
    url = http.put("/metadata.xml", metadata_of(old))
    created = create(api, world, {"idp_metadata_url": url}).json()["connection"]
    refresh = f"{base(world)}/{created['id']}:refresh_metadata"
    assert api.patch(f"{base(world)}/{created['id']}:enable").status_code == 200
    use_connection(world, created["id"])

    http.put("/metadata.xml", metadata_of(old, new))  # the IdP publishes its next certificate
    config = api.post(refresh).json()["connection"]["saml_config"]
    last = config["idp_metadata_changes"][-1]
    assert last["changed_fields"] == ["idp_certificates"] and last["source"] == "idp_metadata_url"
    assert last["certificates_added"] == [fingerprint(new)] and last["certificates_removed"] == []
    use_connection(world, created["id"])
    assert login_signed_by(world, old) == "code" and login_signed_by(world, new) == "code"

    http.put("/metadata.xml", metadata_of(new))  # and switches, dropping the old one
    last = api.post(refresh).json()["connection"]["saml_config"]["idp_metadata_changes"][-1]
    assert last["certificates_removed"] == [fingerprint(old)] and last["certificates_added"] == []
    use_connection(world, created["id"])
    assert login_signed_by(world, old) == "signature_validation_failed"
    assert login_signed_by(world, new) == "code"

    unchanged = api.post(refresh).json()["connection"]["saml_config"]["idp_metadata_changes"]
    assert unchanged[-1]["changed_fields"] == [] and len(unchanged) == 4


def test_refresh_that_would_break_an_enabled_connection_changes_nothing(
    api: TestClient, world: SamlWorld, http: Served
) -> None:
    allow_private(world)
    url = http.put("/metadata.xml", metadata_of(shared_key("idp")))
    created = create(api, world, {"idp_metadata_url": url}).json()["connection"]
    assert api.patch(f"{base(world)}/{created['id']}:enable").status_code == 200
    before = dump(world.rt.engine)
    http.put("/metadata.xml", sp_metadata("https://x.example", "https://x.example/acs", shared_key("idp")))
    found = assert_error(api.post(f"{base(world)}/{created['id']}:refresh_metadata"), 400)
    assert "service provider (SP) metadata" in found["saml_config.idp_metadata_url"]
    http.put("/metadata.xml", b"", status=503)
    found = assert_error(api.post(f"{base(world)}/{created['id']}:refresh_metadata"), 400)
    assert "answered HTTP 503" in found["saml_config.idp_metadata_url"]
    assert dump(world.rt.engine) == before


def test_refresh_needs_a_metadata_url(api: TestClient, world: SamlWorld) -> None:
    created = create(api, world, {"idp_metadata_xml": metadata_of(shared_key("idp")).decode()}).json()
    response = api.post(f"{base(world)}/{created['connection']['id']}:refresh_metadata")
    assert "no metadata URL" in assert_error(response, 400)["saml_config.idp_metadata_url"]
    assert api.post(f"{base(world)}/conn_unknown:refresh_metadata").status_code == 404


def test_patch_imports_metadata_into_an_existing_connection(api: TestClient, world: SamlWorld) -> None:
    created = create(api, world, {}).json()["connection"]
    assert set(created["missing_configuration"]) == {"idp_entity_id", "idp_sso_url", "idp_certificates"}
    patched = api.patch(
        f"{base(world)}/{created['id']}",
        json={"saml_config": {"idp_metadata_xml": metadata_of(shared_key("idp")).decode()}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["connection"]["missing_configuration"] == []


def test_fetch_limits_size_time_and_redirects(http: Served) -> None:
    big = http.put("/big.xml", b"<x>" + b" " * (1024 * 1024 + 10) + b"</x>")
    with pytest.raises(MetadataProblem, match="larger than"):
        fetch_metadata(big, allow_private=True, allow_http=True)
    slow = http.put("/slow.xml", b"<x/>", delay_seconds=2.0)
    with pytest.raises(MetadataProblem, match="did not answer within"):
        fetch_metadata(slow, allow_private=True, allow_http=True, timeout=0.3)
    loop = http.put("/loop", status=302, headers={"Location": "/loop"})
    with pytest.raises(MetadataProblem, match="redirects more than"):
        fetch_metadata(loop, allow_private=True, allow_http=True)
    target = http.put("/real.xml", b"<ok/>")
    hop = http.put("/hop", status=301, headers={"Location": target})
    assert fetch_metadata(hop, allow_private=True, allow_http=True) == b"<ok/>"
    with pytest.raises(MetadataProblem, match="https"):
        fetch_metadata(target, allow_private=True, allow_http=False)
    with pytest.raises(MetadataProblem, match="non-public"):
        fetch_metadata(target, allow_private=False, allow_http=True)
    # A redirect from an allowed place to a private one is checked again.
    with pytest.raises(MetadataProblem, match="non-public"):
        fetch_metadata("http://[::ffff:127.0.0.1]:9/", allow_private=False, allow_http=True)
