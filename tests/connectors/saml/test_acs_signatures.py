"""DESIGN §4 SAML 2-4: only a signature by a configured certificate, over the one assertion that is used."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import (
    SAMLP,
    assertion_of,
    build_assertion,
    build_response,
    ds,
    encode,
    name_id_of,
    samlp,
    shared_key,
    sign_assertion,
    sign_response,
)


def _rejected(world: SamlWorld, response: etree._Element, relay_state: str, code: str) -> dict[str, object]:
    answer = world.post(encode(response), relay_state)
    assert outcome(answer) == code
    failures = world.failures()
    assert failures and failures[-1].error_code == code
    return dict(failures[-1].diagnosis)


def test_unsigned_response_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    diagnosis = _rejected(world, build_response(world.fields(upstream)), request.id, "signature_validation_failed")
    assert diagnosis["got"] == "no signature"


def test_content_changed_after_signing_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    name_id_of(response).text = "admin@example.com"
    diagnosis = _rejected(world, response, request.id, "signature_validation_failed")
    assert "digest mismatch" in str(diagnosis["got"])


def test_signature_by_a_key_the_connection_does_not_trust_is_refused(world: SamlWorld) -> None:
    # The KeyInfo even names the connection's real certificate: the signature must still be checked
    # against the configured key, and it does not verify with it.
    request, upstream = world.new_login()
    response = sign_assertion(
        build_response(world.fields(upstream)), shared_key("attacker"), keyinfo_certificate=world.idp.certificate
    )
    diagnosis = _rejected(world, response, request.id, "signature_validation_failed")
    assert "does not verify" in str(diagnosis["got"])


def test_certificate_carried_only_in_keyinfo_is_never_trusted(world: SamlWorld) -> None:
    # Signed correctly by the attacker's key, whose certificate travels in KeyInfo: a verifier that took its
    # key from KeyInfo would accept this.
    attacker = shared_key("attacker")
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), attacker)
    assert response.find(f".//{ds('X509Certificate')}") is not None
    _rejected(world, response, request.id, "signature_validation_failed")


def test_a_second_unsigned_assertion_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    response.append(build_assertion(world.fields(upstream, name_id="admin@example.com")))
    diagnosis = _rejected(world, response, request.id, "invalid_saml_response")
    assert diagnosis == {"wanted": 1, "got": 2}


@pytest.mark.parametrize("hiding_place", ["extensions", "signature_object"])
def test_signature_wrapping_is_refused(world: SamlWorld, hiding_place: str) -> None:
    """The signed assertion is moved out of the way and a forged one takes its place (XSW)."""
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    genuine = assertion_of(response)
    forged = build_assertion(world.fields(upstream, name_id="admin@example.com"))
    if hiding_place == "extensions":
        # the forged assertion keeps the genuine one's ID, so a by-ID lookup would find one or the other
        forged.set("ID", genuine.get("ID", ""))
        response.replace(genuine, forged)
        extensions = etree.Element(samlp("Extensions"), nsmap={"samlp": SAMLP})
        extensions.append(genuine)
        response.insert(1, extensions)
    else:
        # the forged assertion takes the genuine one's place and its signature; the genuine assertion hides
        # inside that signature's ds:Object
        response.replace(genuine, forged)
        signature = genuine.find(ds("Signature"))
        assert signature is not None
        genuine.remove(signature)
        etree.SubElement(signature, ds("Object")).append(genuine)
        forged.insert(1, signature)
    diagnosis = _rejected(world, response, request.id, "invalid_saml_response")
    assert diagnosis["got"] == 2


def test_response_signature_does_not_cover_a_swapped_assertion(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_response(build_response(world.fields(upstream)), world.idp)
    forged = build_assertion(world.fields(upstream, name_id="admin@example.com"))
    response.replace(assertion_of(response), forged)
    _rejected(world, response, request.id, "signature_validation_failed")


def test_reference_to_another_element_is_refused(world: SamlWorld) -> None:
    # A valid signature over the Response, moved into the Assertion: what it signs is not the assertion.
    request, upstream = world.new_login()
    signed = sign_response(build_response(world.fields(upstream)), world.idp)
    signature = signed.find(ds("Signature"))
    assert signature is not None
    signed.remove(signature)
    assertion_of(signed).insert(1, signature)
    diagnosis = _rejected(world, signed, request.id, "invalid_saml_response")
    assert diagnosis["wanted"] == "Reference URI = #<ID of the signed element>"


C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def test_reference_transform_outside_the_allow_list_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(
        build_response(world.fields(upstream)), world.idp, c14n_algorithm=EXC_C14N, reference_c14n_algorithm=C14N_11
    )
    diagnosis = _rejected(world, response, request.id, "invalid_saml_response")
    assert diagnosis["wanted"] == "enveloped-signature and exclusive c14n only"


def test_signed_info_canonicalization_outside_the_allow_list_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(
        build_response(world.fields(upstream)), world.idp, c14n_algorithm=C14N_11, reference_c14n_algorithm=EXC_C14N
    )
    diagnosis = _rejected(world, response, request.id, "invalid_saml_response")
    assert (diagnosis["wanted"], diagnosis["got"]) == ("exclusive c14n", C14N_11)


def test_sha1_is_refused_unless_the_connection_allows_it(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(
        build_response(world.fields(upstream)), world.idp, signature_algorithm="rsa-sha1", digest_algorithm="sha1"
    )
    diagnosis = _rejected(world, response, request.id, "signature_validation_failed")
    assert diagnosis["got"] == "SHA-1"
    world.reconfigure(allow_sha1=True)
    request, upstream = world.new_login()
    response = sign_assertion(
        build_response(world.fields(upstream)), world.idp, signature_algorithm="rsa-sha1", digest_algorithm="sha1"
    )
    assert outcome(world.post(encode(response), request.id)) == "code"


def test_connection_without_certificates_fails_closed(world: SamlWorld) -> None:
    world.reconfigure(idp_certificates=[])
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    _rejected(world, response, request.id, "signature_validation_failed")
