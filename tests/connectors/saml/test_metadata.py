"""SP metadata (CONTRACT §4): what an IdP admin imports."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from entryway.connectors.saml.metadata import MAX_DOCUMENTS, cached_metadata
from entryway.keys.material import certificate_body
from tests.connectors.support import SamlWorld

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def test_metadata_names_entity_acs_and_the_sp_signing_certificate(world: SamlWorld) -> None:
    answer = world.http.get(f"/sso/v1/saml/{world.connection.id}/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    root = etree.fromstring(answer.content)
    config = world.connection.saml_config
    assert root.get("entityID") == config["sp_entity_id"]
    acs = root.find(f"{{{MD}}}SPSSODescriptor/{{{MD}}}AssertionConsumerService")
    assert acs is not None
    assert acs.get("Location") == config["sp_assertion_url"]
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    certificate = root.findtext(f".//{{{MD}}}KeyDescriptor[@use='signing']//{{{DS}}}X509Certificate")
    sp_key = world.rt.keyring.active(world.env_id, "saml_sp")
    assert sp_key.certificate_pem is not None
    assert certificate == certificate_body(sp_key.certificate_pem)
    assert root.findtext(f".//{{{MD}}}NameIDFormat")


def test_metadata_follows_a_connection_change(world: SamlWorld) -> None:
    first = world.http.get(f"/sso/v1/saml/{world.connection.id}/metadata").content
    world.reconfigure(idp_name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    second = world.http.get(f"/sso/v1/saml/{world.connection.id}/metadata").content
    assert first != second
    assert b"nameid-format:persistent" in second


def test_metadata_of_an_unknown_connection_is_not_found(world: SamlWorld) -> None:
    assert world.http.get("/sso/v1/saml/conn_nope/metadata").status_code == 404


def test_the_metadata_cache_keeps_only_the_most_recently_built_documents(world: SamlWorld) -> None:
    """With 100,000 organizations, a document kept for every connection ever read would grow without bound."""
    many = [replace(world.connection, id=f"conn_{n}") for n in range(MAX_DOCUMENTS + 1)]
    for connection in many:
        cached_metadata(world.rt, connection, "http://localhost:8000")
    cache = world.rt.caches["saml_sp_metadata"]
    assert len(cache) == MAX_DOCUMENTS  # type: ignore[arg-type]
    assert many[0].id not in cache and many[-1].id in cache  # type: ignore[operator]
    # The dropped one is built again, and is then the newest.
    again = cached_metadata(world.rt, many[0], "http://localhost:8000")
    assert many[0].id.encode() in again and next(reversed(cache)) == many[0].id  # type: ignore[call-overload]
