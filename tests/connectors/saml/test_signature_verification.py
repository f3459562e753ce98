"""verify_enveloped itself (DESIGN §4 SAML 2): the caller reads only the signed form, the received tree is left as
it was, a Reference that could name two nodes is refused, and signatures the way xmlsec1-based IdPs make them
(pretty-printed, an InclusiveNamespaces PrefixList) verify. Whatever XML-DSig library does the work: these pin
what a change of library (signxml to python-xmlsec was measured in session 5) must keep."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from entryway.connectors.saml.parsing import parse_xml
from entryway.connectors.saml.signature import verify_enveloped
from entryway.model.errors import LoginError
from tests.support.saml_builder import (
    ResponseFields,
    assertion_of,
    build_response,
    ds,
    name_id_of,
    saml,
    serialize,
    shared_key,
    sign_assertion,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.fixture(autouse=True)
def _quiet_signxml() -> Iterator[None]:
    """The test's own signing (signxml) logs what it canonicalizes at DEBUG; the app holds that logger at
    WARNING (observability/json_logs.py), and these tests build no app."""
    logger = logging.getLogger("signxml")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


def _fields() -> ResponseFields:
    return ResponseFields(
        idp_entity_id="https://idp.example",
        sp_entity_id="https://sp.example",
        acs_url="https://sp.example/acs",
        now=NOW,
    )


def test_the_caller_gets_the_signed_form_and_its_own_tree_is_left_as_it_was() -> None:
    idp = shared_key("idp")
    # A comment added after signing: a "#ID" reference digests the element without comments, so the signature
    # still verifies, and the caller must not see the comment (which could cut a value short for a careless
    # reader).
    response = sign_assertion(build_response(_fields()), idp)
    name_id = name_id_of(response)
    name_id.insert(0, etree.Comment("a comment the signature does not cover"))
    name_id[0].tail, name_id.text = name_id.text, None
    received = parse_xml(serialize(response))
    assertion = assertion_of(received)
    before = etree.tostring(received)
    verified = verify_enveloped(assertion, [idp.certificate], allow_sha1=False, now=NOW)

    assert verified is not assertion and verified.getroottree() is not received.getroottree()
    assert verified.find(ds("Signature")) is None
    assert not list(verified.iter(etree.Comment))
    assert verified.findtext(f"{saml('Subject')}/{saml('NameID')}") == "ada@example.com"
    assert etree.tostring(received) == before  # verifying changed nothing in what was received


def _sign_like_xmlsec1(assertion: etree._Element, key_pem: bytes) -> None:
    """Sign `assertion` where it stands in its Response, as xmlsec1-based IdPs do: a pretty-printed template, and
    an exclusive c14n transform whose PrefixList names a prefix declared on the Response only."""
    signature = xmlsec.template.create(
        assertion, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256
    )
    assertion.find(saml("Issuer")).addnext(signature)
    signature.tail = "\n  "
    reference = xmlsec.template.add_reference(
        signature, xmlsec.constants.TransformSha256, uri="#" + assertion.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    c14n = xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    xmlsec.template.transform_add_c14n_inclusive_namespaces(c14n, ["xs"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem, None)
    context.register_id(assertion, "ID")
    context.sign(signature)


def test_a_pretty_printed_signature_with_an_inclusive_namespace_prefix_list_verifies() -> None:
    idp = shared_key("idp")
    response = build_response(_fields())
    document = etree.Element(response.tag, nsmap={**response.nsmap, "xs": XS, "xsi": XSI})
    for name, value in response.attrib.items():
        document.set(name, value)
    document.extend(list(response))
    assertion = assertion_of(document)
    for value in assertion.iter(saml("AttributeValue")):
        value.set(f"{{{XSI}}}type", "xs:string")  # the prefix is used in a value only: c14n would drop it
    pem = idp.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _sign_like_xmlsec1(assertion, pem)
    received = parse_xml(serialize(document))

    verified = verify_enveloped(assertion_of(received), [idp.certificate], allow_sha1=False, now=NOW)

    assert verified.nsmap.get("xs") == XS  # rendered because the PrefixList names it
    assert verified.findtext(f"{saml('Subject')}/{saml('NameID')}") == "ada@example.com"
    with pytest.raises(LoginError):
        verify_enveloped(assertion_of(received), [shared_key("attacker").certificate], allow_sha1=False, now=NOW)


@pytest.mark.parametrize("attribute", ["ID", "Id"])
def test_a_second_element_with_the_signed_id_is_refused_even_when_signed(attribute: str) -> None:
    # The IdP itself signed it, so the digest over the assertion holds: "#ID" naming two nodes is still refused.
    idp = shared_key("idp")
    response = build_response(_fields())
    assertion = assertion_of(response)
    assertion.find(saml("Subject")).set(attribute, assertion.get("ID"))
    pem = idp.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _sign_like_xmlsec1(assertion, pem)
    received = parse_xml(serialize(response))

    with pytest.raises(LoginError) as refused:
        verify_enveloped(assertion_of(received), [idp.certificate], allow_sha1=False, now=NOW)
    assert refused.value.code == "signature_validation_failed"
