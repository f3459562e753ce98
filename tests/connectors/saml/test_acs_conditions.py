"""DESIGN §4 SAML 5-6: issuer, audience, destination, recipient, request binding, validity window, status,
replay and required attributes, each checked on an otherwise valid, correctly signed response.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from entryway.clock import FrozenClock
from entryway.services.connections import find_connection
from tests.connectors.support import CALLBACK, SamlWorld, outcome, query
from tests.support.login_counts import counted, logged
from tests.support.saml_builder import build_response, encode, sign_assertion


def _post_signed(world: SamlWorld, relay_state: str | None, in_response_to: str | None, **overrides: Any):  # type: ignore[no-untyped-def]
    response = sign_assertion(build_response(world.fields(in_response_to, **overrides)), world.idp)
    return world.post(encode(response), relay_state)


def _last_diagnosis(world: SamlWorld, code: str) -> dict[str, Any]:
    failure = world.failures()[-1]
    assert failure.error_code == code
    return dict(failure.diagnosis)


def test_expired_assertion_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = encode(sign_assertion(build_response(world.fields(upstream)), world.idp))
    assert isinstance(world.rt.clock, FrozenClock)
    # NotOnOrAfter is now + 5 min; the allowed skew is 2 min
    world.rt.clock.advance(minutes=7, seconds=1)
    answer = world.post(response, request.id)
    assert outcome(answer) == "assertion_expired"
    assert "before" in _last_diagnosis(world, "assertion_expired")["wanted"]


def test_expiry_allows_the_configured_clock_skew(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = encode(sign_assertion(build_response(world.fields(upstream)), world.idp))
    assert isinstance(world.rt.clock, FrozenClock)
    world.rt.clock.advance(minutes=6)  # past NotOnOrAfter, within the 2 min skew
    assert outcome(world.post(response, request.id)) == "code"


def test_assertion_not_yet_valid_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    now = world.rt.clock.now()
    answer = _post_signed(world, request.id, upstream, not_before=now + timedelta(minutes=3))
    assert outcome(answer) == "assertion_expired"
    assert "not before" in _last_diagnosis(world, "assertion_expired")["wanted"]


def test_expired_subject_confirmation_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    now = world.rt.clock.now()
    answer = _post_signed(world, request.id, upstream, confirmation_not_on_or_after=now - timedelta(minutes=3))
    assert outcome(answer) == "response_expired"


def test_wrong_audience_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, audience="https://other-sp.example/saml")
    assert outcome(answer) == "invalid_saml_response"
    diagnosis = _last_diagnosis(world, "invalid_saml_response")
    assert diagnosis["wanted"] == world.connection.saml_config["sp_entity_id"]
    assert diagnosis["got"] == ["https://other-sp.example/saml"]


def test_wrong_recipient_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, recipient="https://other-sp.example/acs")
    assert outcome(answer) == "invalid_saml_response"
    diagnosis = _last_diagnosis(world, "invalid_saml_response")
    assert diagnosis["field"] == "SubjectConfirmationData/Recipient"
    assert diagnosis["got"] == "https://other-sp.example/acs"


def test_wrong_destination_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, destination="https://other-sp.example/acs")
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["field"] == "Response/Destination"


def test_wrong_assertion_issuer_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, assertion_issuer="https://evil-idp.example")
    assert outcome(answer) == "invalid_saml_response"
    diagnosis = _last_diagnosis(world, "invalid_saml_response")
    assert diagnosis["field"] == "Assertion/Issuer"
    assert diagnosis["got"] == "https://evil-idp.example"


def test_wrong_response_issuer_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, response_issuer="https://evil-idp.example")
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["field"] == "Response/Issuer"


def test_in_response_to_of_no_request_is_refused(world: SamlWorld) -> None:
    request, _ = world.new_login()
    answer = _post_signed(world, request.id, "_not-a-request-we-sent")
    assert answer.status_code == 400  # the failure cannot be tied to a login, so no redirect to any app
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["got"] == "an unknown InResponseTo"


def test_in_response_to_of_another_login_is_refused(world: SamlWorld) -> None:
    mine, _ = world.new_login()
    _, theirs = world.new_login()
    answer = _post_signed(world, mine.id, theirs)
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["wanted"] == "RelayState = the auth request's ID"


def test_unsigned_envelope_in_response_to_cannot_solicit_a_signed_unsolicited_assertion(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, None, response_in_response_to=upstream)
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["got"] == "a different or unsigned InResponseTo"


def test_response_through_another_connection_is_refused(world: SamlWorld) -> None:
    # an auth request of the simulator connection, answered at this connection's ACS
    with world.rt.engine.connect() as db:
        simulator = find_connection(db, world.env_id, world.seed.connection_id)
    assert simulator is not None
    request, upstream = world.new_login(simulator)
    answer = _post_signed(world, request.id, upstream)
    assert outcome(answer) == "invalid_saml_response"
    diagnosis = _last_diagnosis(world, "invalid_saml_response")
    assert (diagnosis["wanted"], diagnosis["got"]) == (simulator.id, world.connection.id)


def test_unsolicited_response_is_refused_when_idp_initiated_login_is_off(world: SamlWorld) -> None:
    answer = _post_signed(world, None, None)
    assert answer.status_code == 400
    assert outcome(answer) == "invalid_saml_response"
    assert _last_diagnosis(world, "invalid_saml_response")["got"] == "an unsolicited response"


def test_replayed_response_is_refused(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = encode(sign_assertion(build_response(world.fields(upstream)), world.idp))
    assert outcome(world.post(response, request.id)) == "code"
    again = world.post(response, request.id)
    assert outcome(again) == "invalid_saml_response"
    assert "replay" in _last_diagnosis(world, "invalid_saml_response")["got"]


def test_a_replayed_response_counts_only_what_the_auth_log_holds(world: SamlWorld) -> None:
    # The replay's write batch fails on the replay record's unique key: its PENDING row is never stored, so it is
    # not counted either; its refusal is (once).
    request, upstream = world.new_login()
    response = encode(sign_assertion(build_response(world.fields(upstream)), world.idp))
    assert outcome(world.post(response, request.id)) == "code"
    assert outcome(world.post(response, request.id)) == "invalid_saml_response"
    tally = counted(world.rt)
    assert tally[("PENDING", "", "callback")] == 1
    assert tally[("FAILED", "invalid_saml_response", "callback")] == 1
    assert tally == logged(world.rt, world.env_id)


def test_non_success_status_is_invalid_status_and_goes_back_to_the_app(world: SamlWorld) -> None:
    request, upstream = world.new_login()
    response = build_response(
        world.fields(
            upstream,
            status="urn:oasis:names:tc:SAML:2.0:status:Responder",
            sub_status="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
        )
    )
    answer = world.post(encode(response), request.id)
    assert answer.status_code == 302 and answer.headers["location"].startswith(CALLBACK + "?")
    params = query(answer.headers["location"])
    assert params["error"] == "invalid_status" and params["state"] == "app-state"
    assert "err_" in params["error_description"]
    diagnosis = _last_diagnosis(world, "invalid_status")
    assert diagnosis["status_code"] == "urn:oasis:names:tc:SAML:2.0:status:Responder"
    assert diagnosis["sub_status_code"] == "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"


@pytest.mark.parametrize("attributes", [{"firstName": ["Ada"]}, {"email": [""], "firstName": ["Ada"]}])
def test_missing_email_attribute_is_reported(world: SamlWorld, attributes: dict[str, list[str]]) -> None:
    request, upstream = world.new_login()
    answer = _post_signed(world, request.id, upstream, attributes=attributes)
    assert outcome(answer) == "mandatory_attribute_missing"
    diagnosis = _last_diagnosis(world, "mandatory_attribute_missing")
    assert diagnosis["wanted"] == "email"
    assert "Ada" not in str(diagnosis)  # attribute names may be shown, never their values
