"""Encrypted assertions: RSA-OAEP with AES-GCM and AES-CBC accepted, signed either inside (the assertion) or
outside (the response over the ciphertext); RSA PKCS#1 v1.5, a wrong key and broken ciphertext all give the
sender one and the same answer (no oracle) while the auth log says what failed.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import (
    build_assertion,
    build_response,
    encode,
    shared_key,
    sign_assertion,
    sign_response,
)
from tests.support.saml_encryption import encrypt_assertion

XENC = "http://www.w3.org/2001/04/xmlenc#"


def sp_certificate(world: SamlWorld) -> str:
    pem = world.rt.keyring.active(world.env_id, "saml_sp").certificate_pem
    assert pem
    return pem


def post(world: SamlWorld, response: etree._Element, request_id: str) -> tuple[str, str]:
    answer = world.post(encode(response), request_id)
    description = parse_qs(urlsplit(answer.headers.get("location", "")).query).get("error_description", [""])[0]
    return outcome(answer), description.split(" (reference")[0]


@pytest.mark.parametrize("content", ["aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc"])
def test_signed_then_encrypted_assertion_is_accepted(world: SamlWorld, content: str) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream, name_id="grace@example.com")), world.idp)
    response = encrypt_assertion(response, sp_certificate(world), content=content)
    assert response.find(f".//{{{XENC}}}EncryptedData") is not None
    assert b"grace@example.com" not in etree.tostring(response)
    assert post(world, response, request.id)[0] == "code"
    assert world.code_profile(request.id)["email"] == "grace@example.com"


def test_okta_shape_with_the_encrypted_key_beside_the_data_is_accepted(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    response = encrypt_assertion(response, sp_certificate(world), content="aes256-cbc", key_beside=True)
    wrapper = response.find("{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion")
    assert wrapper is not None and wrapper.find(f"{{{XENC}}}EncryptedKey") is not None
    assert post(world, response, request.id)[0] == "code"


def test_response_signed_over_the_ciphertext_is_accepted(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = encrypt_assertion(build_response(world.fields(upstream)), sp_certificate(world), content="aes128-cbc")
    assert post(world, sign_response(response, world.idp), request.id)[0] == "code"


def test_encrypted_assertion_with_no_signature_anywhere_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = encrypt_assertion(build_response(world.fields(upstream)), sp_certificate(world))
    assert post(world, response, request.id)[0] == "signature_validation_failed"


def test_ciphertext_changed_under_a_response_signature_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_response(
        encrypt_assertion(build_response(world.fields(upstream)), sp_certificate(world)), world.idp
    )
    value = response.find(f".//{{{XENC}}}EncryptedData/{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
    assert value is not None and value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[-1] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    assert post(world, response, request.id)[0] == "signature_validation_failed"


def test_every_decryption_failure_looks_the_same_to_the_sender(world: SamlWorld) -> None:
    answers = []
    cases = {
        "rsa-1_5": dict(certificate=sp_certificate(world), key_transport="rsa-1_5"),
        "other_key": dict(certificate=shared_key("attacker").certificate_pem, key_transport="rsa-oaep-mgf1p"),
        "broken": dict(certificate=sp_certificate(world), key_transport="rsa-oaep-mgf1p"),
    }
    for name, case in cases.items():
        request, upstream = world.new_login()
        response = sign_assertion(build_response(world.fields(upstream)), world.idp)
        response = encrypt_assertion(response, str(case["certificate"]), key_transport=str(case["key_transport"]))
        if name == "broken":
            value = response.find(f".//{{{XENC}}}EncryptedData/{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
            assert value is not None
            value.text = base64.b64encode(b"\x00" * 64).decode()
        answers.append(post(world, response, request.id))
        assert world.failures()[-1].diagnosis["got"]  # the log says what failed
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == "invalid_saml_response" and "could not be decrypted" in answers[0][1]
    diagnoses = [f.diagnosis for f in world.failures()[-3:]]
    assert "allow-list" in diagnoses[0]["got"] and diagnoses[1]["got"] == diagnoses[2]["got"] == "decryption failed"


def test_an_encrypted_assertion_beside_a_plain_one_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    response = encrypt_assertion(response, sp_certificate(world))
    response.append(build_assertion(world.fields(upstream, name_id="admin@example.com")))
    assert post(world, response, request.id)[0] == "invalid_saml_response"
    assert world.failures()[-1].diagnosis == {"wanted": 1, "got": 2}


def test_sp_metadata_publishes_the_encryption_key_when_assertions_are_encrypted(world: SamlWorld) -> None:
    url = world.connection.saml_config["sp_entity_id"] + "/metadata"
    uses = lambda: [k.get("use") for k in etree.fromstring(world.http.get(url).content).iter("{*}KeyDescriptor")]  # noqa: E731
    assert uses() == ["signing"]
    world.reconfigure(assertion_encrypted=True)
    assert uses() == ["signing", "encryption"]
    methods = [m.get("Algorithm") for m in etree.fromstring(world.http.get(url).content).iter("{*}EncryptionMethod")]
    assert "http://www.w3.org/2009/xmlenc11#aes256-gcm" in methods and not any("rsa-1_5" in m for m in methods)
