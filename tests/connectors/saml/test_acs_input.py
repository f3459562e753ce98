"""DESIGN §4 SAML 1: the ACS decodes and parses strictly, within size limits, and answers 4xx/302, never 500."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from lxml import etree

from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import build_response, encode, name_id_of, serialize, sign_assertion

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&lol4;</samlp:Response>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&xxe;</samlp:Response>"""


def _failure(world: SamlWorld) -> dict[str, object]:
    failures = world.failures()
    assert failures
    return dict(failures[-1].diagnosis)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion_laughs", "xxe"])
def test_doctype_is_refused_outright(world: SamlWorld, document: bytes) -> None:
    request, _ = world.new_login()
    answer = world.post(base64.b64encode(document).decode(), request.id)
    assert answer.status_code == 400
    assert outcome(answer) == "malformed_saml_response"
    assert "/etc/passwd" not in answer.text and "lollol" not in answer.text
    assert _failure(world)["got"] == "a DOCTYPE declaration"


def test_doctype_in_front_of_a_validly_signed_response_is_refused(world: SamlWorld) -> None:
    # Even a harmless DOCTYPE is refused: entity tricks are stopped before anything reads the document.
    request, upstream = world.new_login()
    signed = serialize(sign_assertion(build_response(world.fields(upstream)), world.idp))
    declaration, _, rest = signed.partition(b"?>")
    document = declaration + b'?><!DOCTYPE samlp:Response [<!ENTITY e "x">]>' + rest
    answer = world.post(base64.b64encode(document).decode(), request.id)
    assert outcome(answer) == "malformed_saml_response"


@pytest.mark.parametrize("node", ["comment", "processing_instruction"])
def test_comment_or_processing_instruction_inside_name_id_is_refused(world: SamlWorld, node: str) -> None:
    # Signed as "ada@example.com.evil.test"; a careless reader would take the text before the comment.
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream, name_id="ada@example.com.evil.test")), world.idp)
    name_id = name_id_of(response)
    name_id.text = "ada@example.com"
    inserted = etree.Comment("x") if node == "comment" else etree.ProcessingInstruction("x", "y")
    inserted.tail = ".evil.test"
    name_id.append(inserted)
    answer = world.post(encode(response), request.id)
    assert outcome(answer) == "invalid_saml_response"
    assert _failure(world)["got"] == "a comment or processing instruction"


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("not base64 at all!", "invalid base64"),
        (base64.b64encode(b"this is not XML").decode(), "unparsable XML"),
        (base64.b64encode(b"<samlp:Response xmlns:samlp='urn:x'>").decode(), "unparsable XML"),
        ("", "none"),
    ],
    ids=["not_base64", "not_xml", "truncated_xml", "empty"],
)
def test_undecodable_input_is_malformed(world: SamlWorld, value: str, got: str) -> None:
    request, _ = world.new_login()
    answer = world.post(value, request.id)
    assert answer.status_code in (302, 400)
    assert outcome(answer) == "malformed_saml_response"
    assert _failure(world)["got"] == got


def test_oversized_body_is_refused_before_parsing(world: SamlWorld) -> None:
    world.rt.settings = replace(world.rt.settings, max_saml_response_bytes=4096)
    request, upstream = world.new_login()
    big = encode(
        sign_assertion(
            build_response(world.fields(upstream, attributes={"email": ["a@example.com"], "blob": ["x" * 5000]})),
            world.idp,
        )
    )
    answer = world.post(big, request.id)
    assert answer.status_code == 400
    assert outcome(answer) == "malformed_saml_response"
    assert _failure(world)["got"] == "a larger body"


def test_body_larger_than_the_limit_without_content_length_is_refused(world: SamlWorld) -> None:
    # A chunked upload declares no length: the bytes actually read are counted.
    world.rt.settings = replace(world.rt.settings, max_saml_response_bytes=4096)

    def chunks():  # type: ignore[no-untyped-def]
        yield b"SAMLResponse="
        for _ in range(10):
            yield b"A" * 1000

    answer = world.http.post(
        world.connection.saml_config["sp_assertion_url"],
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert outcome(answer) == "malformed_saml_response"
    assert _failure(world)["got"] == "a larger body"


def test_declared_content_length_over_the_limit_is_refused_unread(world: SamlWorld) -> None:
    world.rt.settings = replace(world.rt.settings, max_saml_response_bytes=4096)
    request, _ = world.new_login()
    body = "SAMLResponse=x&RelayState=" + request.id
    answer = world.http.post(
        world.connection.saml_config["sp_assertion_url"],
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": "999999"},
    )
    assert outcome(answer) == "malformed_saml_response"
    assert _failure(world)["got"] == "a larger body"


def test_non_form_post_is_malformed(world: SamlWorld) -> None:
    answer = world.http.post(world.connection.saml_config["sp_assertion_url"], json={"SAMLResponse": "x"})
    assert outcome(answer) == "malformed_saml_response"


def test_unknown_connection_gets_an_error_page_not_a_500(world: SamlWorld) -> None:
    answer = world.http.post(
        "/sso/v1/saml/conn_doesnotexist/callback", data={"SAMLResponse": "x", "RelayState": "req_x"}
    )
    assert answer.status_code == 400
    assert outcome(answer) == "invalid_connection_id"
