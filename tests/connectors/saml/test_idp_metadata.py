"""Reading IdP metadata: vendor shapes, every signing certificate, and clear refusals of what is not IdP metadata."""

from __future__ import annotations

import pytest

from entryway.connectors.saml.idp_metadata import MetadataProblem, parse_idp_metadata
from entryway.keys.material import certificate_fingerprint, load_certificate
from tests.support.saml_builder import shared_key
from tests.support.saml_metadata import (
    PERSISTENT,
    POST,
    REDIRECT,
    SOAP,
    IdpMetadataFields,
    idp_metadata,
    sp_metadata,
)

ENTRA_ID = "https://sts.windows.net/3f2c1b0e-1111-2222-3333-444455556666/"
ENTRA_SSO = "https://login.microsoftonline.com/3f2c1b0e-1111-2222-3333-444455556666/saml2"


def fingerprints(pems: list[str]) -> list[str]:
    return [certificate_fingerprint(load_certificate(p)) for p in pems]


def test_entra_shape_with_bom_ws_fed_role_and_rollover_certificates() -> None:
    old, new = shared_key("idp"), shared_key("idp-next")
    document = idp_metadata(
        IdpMetadataFields(
            ENTRA_ID,
            {REDIRECT: ENTRA_SSO, POST: ENTRA_SSO},
            [old, new],
            slo={REDIRECT: ENTRA_SSO},
            ws_fed_role=True,
            bom=True,
            want_authn_requests_signed=None,
        )
    )
    assert document.startswith(b"\xef\xbb\xbf")
    found = parse_idp_metadata(document)
    assert found.entity_id == ENTRA_ID
    assert found.sso_urls == {"HTTP_REDIRECT": ENTRA_SSO, "HTTP_POST": ENTRA_SSO}
    assert found.sso_binding == "HTTP_REDIRECT" and found.slo_url == ENTRA_SSO
    assert fingerprints(found.signing_certificates) == fingerprints([old.certificate_pem, new.certificate_pem])
    assert found.want_authn_requests_signed is False


def test_post_only_idp_keyless_use_and_name_id_formats() -> None:
    # JumpCloud without "Declare Redirect Endpoint"; Shibboleth-style KeyDescriptors without a use attribute.
    document = idp_metadata(
        IdpMetadataFields(
            "JumpCloud IdP Entity ID",
            {POST: "https://sso.jumpcloud.com/saml2/acme", SOAP: "https://sso.jumpcloud.com/soap"},
            [shared_key("idp")],
            key_use=None,
            name_id_formats=[PERSISTENT, PERSISTENT],
            want_authn_requests_signed=True,
            valid_until="2030-01-01T00:00:00Z",
        )
    )
    found = parse_idp_metadata(document)
    assert found.sso_urls == {"HTTP_POST": "https://sso.jumpcloud.com/saml2/acme"}
    assert found.sso_binding == "HTTP_POST" and found.slo_url is None
    assert len(found.signing_certificates) == 1
    assert found.name_id_formats == [PERSISTENT]
    assert found.want_authn_requests_signed is True
    assert found.valid_until is not None and found.valid_until.year == 2030


def test_encryption_keys_are_not_trusted_for_signing() -> None:
    document = idp_metadata(
        IdpMetadataFields(
            "https://idp.example/shibboleth",
            {REDIRECT: "https://idp.example/idp/profile/SAML2/Redirect/SSO"},
            [shared_key("idp")],
            encryption_key=shared_key("attacker"),
        )
    )
    found = parse_idp_metadata(document)
    assert fingerprints(found.signing_certificates) == fingerprints([shared_key("idp").certificate_pem])


def test_sp_metadata_pasted_as_idp_metadata_says_so() -> None:
    document = sp_metadata("https://app.example/sp", "https://app.example/acs", shared_key("idp"))
    with pytest.raises(MetadataProblem, match=r"service provider \(SP\) metadata, not identity provider"):
        parse_idp_metadata(document)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (b"", "empty"),
        (b"<html><body>Sign in</body></html>", "not SAML metadata"),
        (b"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>", "no IDPSSODescriptor"),
        (b"not xml at all", "not well-formed"),
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
            "DOCTYPE",
        ),
        (b"<x>" + b" " * (1024 * 1024) + b"</x>", "larger than"),
    ],
)
def test_documents_that_are_not_idp_metadata_are_refused(document: bytes, says: str) -> None:
    with pytest.raises(MetadataProblem, match=says):
        parse_idp_metadata(document)


def test_metadata_without_a_usable_sso_service_or_certificate_is_refused() -> None:
    no_sso = idp_metadata(
        IdpMetadataFields("https://idp.example", {SOAP: "https://idp.example/soap"}, [shared_key("idp")])
    )
    with pytest.raises(MetadataProblem, match="no SingleSignOnService"):
        parse_idp_metadata(no_sso)
    no_cert = idp_metadata(IdpMetadataFields("https://idp.example", {REDIRECT: "https://idp.example/sso"}, []))
    with pytest.raises(MetadataProblem, match="no signing certificate"):
        parse_idp_metadata(no_cert)
    broken = idp_metadata(
        IdpMetadataFields("https://idp.example", {REDIRECT: "https://idp.example/sso"}, [shared_key("idp")])
    ).replace(b"<ds:X509Certificate>\n", b"<ds:X509Certificate>\n!!")
    with pytest.raises(MetadataProblem, match="cannot be read"):
        parse_idp_metadata(broken)


def test_an_aggregate_must_hold_exactly_one_idp() -> None:
    one = idp_metadata(IdpMetadataFields("https://a.example", {REDIRECT: "https://a.example/sso"}, [shared_key("idp")]))
    two = idp_metadata(IdpMetadataFields("https://b.example", {REDIRECT: "https://b.example/sso"}, [shared_key("idp")]))

    def aggregate(*documents: bytes) -> bytes:
        bodies = b"".join(d.split(b"?>", 1)[1] for d in documents)
        return (
            b"<md:EntitiesDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'>"
            + bodies
            + (b"</md:EntitiesDescriptor>")
        )

    assert parse_idp_metadata(aggregate(one)).entity_id == "https://a.example"
    with pytest.raises(MetadataProblem, match="describes 2 identity providers"):
        parse_idp_metadata(aggregate(one, two))
