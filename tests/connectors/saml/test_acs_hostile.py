"""Hostile responses the issue lists that the other ACS tests do not already cover: the eight classic XML
signature wrapping placements (Somorovsky et al., "On Breaking SAML", 2012), HMAC signatures, an assertion
hidden in Advice, comments and PIs in attribute values, an altered envelope around a signed assertion, deflate
bombs and bad base64 on the redirect binding, and a response for another tenant's connection.

Each is refused with its contract code and a diagnosis; none yields a code.
"""

from __future__ import annotations

import base64
import copy
import zlib
from collections.abc import Callable

import pytest
from lxml import etree
from signxml import SignatureReference, XMLSigner

from entryway.services.bootstrap import seed_development
from tests.connectors.support import CALLBACK, SamlWorld, outcome
from tests.support.saml_builder import (
    DS,
    EXC_C14N,
    SAMLP,
    assertion_of,
    build_assertion,
    build_response,
    ds,
    encode,
    saml,
    samlp,
    sign,
    sign_assertion,
    sign_response,
)

EVIL = "admin@example.com"


def _refused(world: SamlWorld, response: etree._Element | bytes, relay_state: str) -> tuple[str, dict[str, object]]:
    answer = world.post(encode(response), relay_state)
    assert answer.status_code in (302, 400), answer.status_code
    code = outcome(answer)
    assert code != "code"
    failures = world.failures()
    assert failures and failures[-1].error_code == code
    return code, dict(failures[-1].diagnosis)


def _forged(world: SamlWorld, upstream: str, genuine_id: str | None = None) -> etree._Element:
    forged = build_assertion(world.fields(upstream, name_id=EVIL, attributes={"email": [EVIL]}))
    if genuine_id:
        forged.set("ID", genuine_id)  # so a by-ID lookup might find the forged one
    return forged


def _signature_of(element: etree._Element) -> etree._Element:
    found = element.find(ds("Signature"))
    assert found is not None
    return found


# Each wrapping takes a validly signed document for the login and returns the attacker's rearrangement.
def xsw1(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Response: a new Response with the forged assertion; the original hides inside its Signature."""
    original = sign_response(build_response(world.fields(upstream)), world.idp)
    evil = copy.deepcopy(original)
    signature = _signature_of(evil)
    evil.remove(signature)
    evil.replace(assertion_of(evil), _forged(world, upstream))
    evil.set("ID", "_evil")
    original.remove(_signature_of(original))
    signature.append(original)
    evil.insert(1, signature)
    return evil


def xsw2(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Response: as XSW1, but the original sits next to the signature (detached)."""
    original = sign_response(build_response(world.fields(upstream)), world.idp)
    evil = copy.deepcopy(original)
    signature = _signature_of(evil)
    evil.replace(assertion_of(evil), _forged(world, upstream))
    evil.set("ID", "_evil")
    original.remove(_signature_of(original))
    signature.addprevious(original)
    return evil


def xsw3(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: a forged assertion with the same ID placed before it."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    genuine.addprevious(_forged(world, upstream, genuine.get("ID")))
    return response


def xsw4(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: the forged assertion wraps the genuine one."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = _forged(world, upstream, genuine.get("ID"))
    response.replace(genuine, forged)
    forged.append(genuine)
    return response


def xsw5(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: the forged assertion takes a copy of the signature; the genuine one goes last, unsigned."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = _forged(world, upstream)
    forged.insert(1, copy.deepcopy(_signature_of(genuine)))
    genuine.remove(_signature_of(genuine))
    response.replace(genuine, forged)
    response.append(genuine)
    return response


def xsw6(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: the forged assertion holds the signature, which holds the genuine assertion."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = _forged(world, upstream)
    signature = _signature_of(genuine)
    genuine.remove(signature)
    response.replace(genuine, forged)
    signature.append(genuine)
    forged.insert(1, signature)
    return response


def xsw7(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: the genuine assertion moves into an Extensions element; the forged one is in its place."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    response.replace(genuine, _forged(world, upstream))
    extensions = etree.Element(samlp("Extensions"), nsmap={"samlp": SAMLP})
    extensions.append(genuine)
    response.insert(1, extensions)
    return response


def xsw8(world: SamlWorld, upstream: str) -> etree._Element:
    """Signed Assertion: the forged assertion holds the signature, whose ds:Object holds the genuine assertion."""
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = _forged(world, upstream)
    signature = _signature_of(genuine)
    genuine.remove(signature)
    response.replace(genuine, forged)
    etree.SubElement(signature, ds("Object")).append(genuine)
    forged.insert(1, signature)
    return response


WRAPPINGS: list[Callable[[SamlWorld, str], etree._Element]] = [xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8]


@pytest.mark.parametrize("wrap", WRAPPINGS, ids=lambda w: w.__name__)
def test_each_classic_signature_wrapping_is_refused(world: SamlWorld, wrap: Callable[..., etree._Element]) -> None:
    request, upstream = world.new_login()
    response = wrap(world, upstream)
    assert any(a.findtext(f"{saml('Subject')}/{saml('NameID')}") == EVIL for a in response.iter(saml("Assertion")))
    code, diagnosis = _refused(world, response, request.id)
    assert (code, diagnosis["got"]) == ("invalid_saml_response", 2)


def test_assertion_hidden_in_advice_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = _forged(world, upstream)
    response.replace(genuine, forged)
    advice = etree.Element(saml("Advice"))
    advice.append(genuine)
    forged.find(saml("Conditions")).addnext(advice)  # type: ignore[union-attr]
    assert _refused(world, response, request.id) == ("invalid_saml_response", {"wanted": 1, "got": 2})


@pytest.mark.parametrize("key", ["certificate_pem", "certificate_der"])
def test_hmac_signature_keyed_with_the_public_certificate_is_refused(world: SamlWorld, key: str) -> None:
    # Key confusion: an HMAC whose "secret" is the IdP's public certificate, which anyone can compute.
    from cryptography.hazmat.primitives import serialization

    cert = world.idp.certificate
    secret = (
        world.idp.certificate_pem.encode()
        if key == "certificate_pem"
        else cert.public_bytes(serialization.Encoding.DER)
    )
    request, upstream = world.new_login()
    response = build_response(world.fields(upstream))
    assertion = assertion_of(response)
    placeholder = etree.Element(ds("Signature"), nsmap={"ds": DS})
    placeholder.set("Id", "placeholder")
    assertion.find(saml("Issuer")).addnext(placeholder)  # type: ignore[union-attr]
    signer = XMLSigner(signature_algorithm="hmac-sha256", digest_algorithm="sha256", c14n_algorithm=EXC_C14N)
    signed = signer.sign(assertion, key=secret, reference_uri=[SignatureReference(URI="#" + assertion.get("ID", ""))])
    response.replace(assertion, signed)
    method = signed.find(f"{ds('Signature')}/{ds('SignedInfo')}/{ds('SignatureMethod')}")
    assert method is not None and "hmac" in method.get("Algorithm", "")
    code, diagnosis = _refused(world, response, request.id)
    assert (code, diagnosis["got"]) == ("signature_validation_failed", "an HMAC signature")


@pytest.mark.parametrize("node", ["comment", "processing_instruction"])
def test_comment_or_pi_splitting_an_attribute_value_is_refused(world: SamlWorld, node: str) -> None:
    # Signed with the split in place, so the signature verifies: the split itself must be refused, or a
    # reader taking only the first text node would see "ada@example.com" instead of the signed value.
    request, upstream = world.new_login()
    response = build_response(world.fields(upstream, name_id="someone@evil.test"))
    email = next(a for a in response.iter(saml("Attribute")) if a.get("Name") == "email")
    value = email.find(saml("AttributeValue"))
    assert value is not None
    value.text = "ada@example.com"
    inserted = etree.Comment("x") if node == "comment" else etree.ProcessingInstruction("x", "y")
    inserted.tail = ".evil.test"
    value.append(inserted)
    response = sign_assertion(response, world.idp)
    code, diagnosis = _refused(world, response, request.id)
    assert (code, diagnosis["got"]) == ("invalid_saml_response", "a comment or processing instruction")


@pytest.mark.parametrize(
    ("alteration", "code"),
    [
        ("destination", "invalid_saml_response"),
        ("issuer", "invalid_saml_response"),
        ("in_response_to", "invalid_saml_response"),
        ("status", "invalid_status"),
        ("extra_assertion_in_extensions", "invalid_saml_response"),
    ],
)
def test_signed_assertion_inside_an_altered_unsigned_response_is_refused(
    world: SamlWorld, alteration: str, code: str
) -> None:
    request, upstream = world.new_login()
    other_request, other_upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    if alteration == "destination":
        response.set("Destination", "https://evil.test/acs")
    elif alteration == "issuer":
        response.find(saml("Issuer")).text = "https://evil.test/idp"  # type: ignore[union-attr]
    elif alteration == "in_response_to":
        response.set("InResponseTo", other_upstream)  # aimed at another pending login
    elif alteration == "status":
        status_code = response.find(f"{samlp('Status')}/{samlp('StatusCode')}")
        status_code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")  # type: ignore[union-attr]
    else:
        extensions = etree.Element(samlp("Extensions"))
        extensions.append(_forged(world, upstream))
        response.insert(1, extensions)
    assert _refused(world, response, request.id)[0] == code
    assert _refused(world, copy.deepcopy(response), other_request.id)[0] != "code"


def _deflated(data: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return base64.b64encode(compressor.compress(data) + compressor.flush()).decode()


@pytest.mark.parametrize(
    "saml_request",
    [
        _deflated(b"<a>" + b"A" * (20 * 1024 * 1024) + b"</a>"),  # 20 MB from about 20 KB
        "not*base64",
        base64.b64encode(b"\x00\x01garbage").decode(),
        _deflated(b"<samlp:AuthnRequest " + b"x" * 4000)[:-40],
    ],
    ids=["deflate_bomb", "bad_base64", "not_deflate", "truncated_deflate"],
)
def test_redirect_binding_refuses_bombs_and_bad_encodings(world: SamlWorld, saml_request: str) -> None:
    url = f"/sso/v1/simulator/{world.seed.connection_id}/sso"
    answer = world.http.get(url, params={"SAMLRequest": saml_request, "RelayState": "x"})
    assert answer.status_code == 400
    assert outcome(answer) == "malformed_saml_response"


@pytest.mark.parametrize(
    "value",
    [base64.b64encode(b"<a/>" * 70_000).decode(), "@@@@" * 100, base64.b64encode(b"<a>").decode()[:-1]],
    ids=["oversized", "bad_alphabet", "bad_padding"],
)
def test_post_binding_refuses_oversized_and_malformed_base64(world: SamlWorld, value: str) -> None:
    request, _ = world.new_login()
    answer = world.post(value, request.id)
    assert answer.status_code in (302, 400) and outcome(answer) == "malformed_saml_response"


def test_response_for_another_tenants_connection_is_refused(world: SamlWorld) -> None:
    # Another environment's ACS URL names a connection of *that* environment; posted to this environment's
    # host, the connection is not found, whatever the response says.
    other = seed_development(world.rt, "http://other.localhost:8000", CALLBACK)
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    path = f"/sso/v1/saml/{other.connection_id}/callback"
    answer = world.http.post(path, data={"SAMLResponse": encode(response), "RelayState": request.id})
    assert outcome(answer) == "invalid_connection_id"
    assert world.failures()[-1].diagnosis["got"] == other.connection_id
    # and the genuine response still works where it belongs: nothing was consumed
    assert outcome(world.post(encode(response), request.id)) == "code"


def test_signed_response_by_the_idp_for_another_connection_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    fields = world.fields(upstream)
    fields.sp_entity_id = fields.sp_entity_id.replace(world.connection.id, "conn_other")
    fields.acs_url = fields.acs_url.replace(world.connection.id, "conn_other")
    response = sign(build_response(fields), world.idp)
    code, diagnosis = _refused(world, response, request.id)
    assert code == "invalid_saml_response" and diagnosis.get("field") == "Response/Destination"
