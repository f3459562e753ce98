"""Odd but possible input: every case ends in a recorded 4xx or app redirect with a contract code, never a 500,
and nothing the response says is stored beyond the column and diagnosis limits.
"""

from __future__ import annotations

import base64

from lxml import etree

from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import build_response, ds, encode, samlp, sign_assertion


def _check(world: SamlWorld, answer, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert answer.status_code in (302, 400)
    assert outcome(answer) == code
    failure = world.failures()[-1]
    assert failure.error_code == code
    return dict(failure.diagnosis)


def test_empty_signature_value_is_a_refusal(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    value = response.find(f".//{ds('SignatureValue')}")
    assert value is not None
    value.text = None
    _check(world, world.post(encode(response), request.id), "signature_validation_failed")


def test_overlong_assertion_id_is_refused_before_it_reaches_the_replay_table(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream, assertion_id="_" + "a" * 300)), world.idp)
    _check(world, world.post(encode(response), request.id), "invalid_saml_response")


def test_overlong_email_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    email = "a" * 400 + "@example.com"
    response = sign_assertion(build_response(world.fields(upstream, attributes={"email": [email]})), world.idp)
    _check(world, world.post(encode(response), request.id), "mandatory_attribute_missing")


def test_overlong_relay_state_is_refused(world: SamlWorld) -> None:
    _, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    _check(world, world.post(encode(response), "r" * 2000), "malformed_saml_response")


def test_quoted_values_in_the_diagnosis_are_shortened(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream, response_issuer="x" * 10_000)), world.idp)
    diagnosis = _check(world, world.post(encode(response), request.id), "invalid_saml_response")
    assert len(str(diagnosis["got"])) <= 201


def test_other_message_types_and_missing_status_are_malformed(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    authn_request = etree.Element(samlp("AuthnRequest"))
    _check(world, world.post(encode(authn_request), request.id), "malformed_saml_response")
    response = build_response(world.fields(upstream))
    status = response.find(samlp("Status"))
    assert status is not None
    response.remove(status)
    _check(world, world.post(encode(sign_assertion(response, world.idp)), request.id), "malformed_saml_response")


def test_utf16_and_garbage_bytes_are_malformed(world: SamlWorld) -> None:
    request, _ = world.new_login()
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'.encode("utf-16")
    _check(world, world.post(base64.b64encode(utf16).decode(), request.id), "malformed_saml_response")
    garbage = base64.b64encode(bytes(range(256))).decode()
    _check(world, world.post(garbage, request.id), "malformed_saml_response")
