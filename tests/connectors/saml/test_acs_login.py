"""The ACS accepts what a real IdP sends and turns it into a completed login with the mapped profile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from entryway.store.tables import auth_requests, saml_replay
from tests.connectors.support import CALLBACK, SamlWorld, outcome, query
from tests.support.saml_builder import build_response, encode, sign_assertion, sign_response


def test_signed_assertion_completes_the_login_with_the_mapped_profile(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    fields = world.fields(
        upstream,
        attributes={
            "email": ["ada@example.com"],
            "firstName": ["Ada"],
            "lastName": ["Lovelace"],
            "groups": ["engineering", "admins"],
            "department": ["R&D"],
        },
    )
    response = sign_assertion(build_response(fields), world.idp)
    answer = world.post(encode(response), request.id)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(CALLBACK + "?")
    assert outcome(answer) == "code"
    assert query(answer.headers["location"])["state"] == "app-state"
    profile = world.code_profile(request.id)
    assert profile["subject"] == "ada@example.com"
    assert profile["email"] == "ada@example.com"
    assert (profile["given_name"], profile["family_name"]) == ("Ada", "Lovelace")
    assert profile["groups"] == ["engineering", "admins"]
    assert profile["raw_attributes"] == {"department": "R&D"}  # unmapped attributes only
    assert profile["session_index"] == fields.session_index
    with world.rt.engine.connect() as db:
        stored = db.execute(select(saml_replay).where(saml_replay.c.assertion_id == fields.assertion_id)).one()
        status = db.execute(select(auth_requests.c.status).where(auth_requests.c.id == request.id)).scalar_one()
    assert stored.connection_id == world.connection.id
    # remembered until the assertion's NotOnOrAfter plus the allowed skew
    skew = timedelta(seconds=world.rt.settings.clock_skew_seconds)
    assert stored.expire_time == fields.now + timedelta(minutes=5) + skew
    assert status == "completed"


def test_custom_attributes_come_from_mapping_keys_beyond_the_standard_fields(world: SamlWorld) -> None:
    world.reconfigure(attribute_mapping={"email": "mail", "department": "dept", "employee_id": "empId"})
    request, upstream = world.new_login()
    fields = world.fields(
        upstream,
        attributes={"mail": ["grace@example.com"], "dept": ["Navy", "Math"], "empId": ["42"], "extra": ["x"]},
    )
    answer = world.post(encode(sign_assertion(build_response(fields), world.idp)), request.id)
    assert outcome(answer) == "code"
    profile = world.code_profile(request.id)
    assert profile["email"] == "grace@example.com"
    assert profile["custom_attributes"] == {"department": ["Navy", "Math"], "employee_id": "42"}
    assert profile["raw_attributes"] == {"extra": "x"}


def test_signed_response_with_unsigned_assertion_is_accepted(world: SamlWorld) -> None:
    # Shibboleth and Keycloak sign the Response, not the Assertion.
    request, upstream = world.new_login()
    response = sign_response(build_response(world.fields(upstream)), world.idp)
    assert outcome(world.post(encode(response), request.id)) == "code"


def test_certificate_given_as_bare_base64_is_trusted(world: SamlWorld) -> None:
    world.reconfigure(idp_certificates=[world.idp.certificate_base64])
    request, upstream = world.new_login()
    response = sign_assertion(build_response(world.fields(upstream)), world.idp)
    assert outcome(world.post(encode(response), request.id)) == "code"


@pytest.mark.parametrize("separator", ["\r\n", "\n", " ", "\t"], ids=["crlf", "lf", "space", "tab"])
def test_base64_wrapped_at_76_columns_is_accepted(world: SamlWorld, separator: str) -> None:
    request, upstream = world.new_login()
    encoded = encode(sign_assertion(build_response(world.fields(upstream)), world.idp))
    wrapped = separator.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert outcome(world.post(wrapped, request.id)) == "code"
