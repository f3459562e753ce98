"""CONTRACT §3.4: an allowed unsolicited assertion becomes a short-lived signed JWT for the app, once."""

from __future__ import annotations

from entryway.model.environments import RedirectKind
from entryway.oidc_provider import signing
from entryway.services import environments
from tests.connectors.support import CALLBACK, SamlWorld, outcome, query
from tests.support.saml_builder import build_response, encode, sign_assertion


def test_unsolicited_response_sends_the_browser_to_the_app_with_a_signed_token(world: SamlWorld) -> None:
    world.reconfigure(allow_idp_initiated_login=True)
    response = encode(sign_assertion(build_response(world.fields(None, name_id="ada@example.com")), world.idp))
    answer = world.post(response, "deep-link-42")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")  # no initiate-login URL registered: the default callback
    claims = signing.verify(world.rt, world.seed.environment, query(location)["idp_initiated_login"])
    assert claims["organization_id"] == world.connection.organization_id
    assert claims["connection_id"] == world.connection.id
    assert claims["login_hint"] == "ada@example.com"
    assert claims["relay_state"] == "deep-link-42"
    assert claims["iss"] == world.seed.environment.url
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] == claims["iat"]
    assert "code" not in query(location)


def test_initiate_login_url_is_preferred_when_registered(world: SamlWorld) -> None:
    world.reconfigure(allow_idp_initiated_login=True)
    with world.rt.engine.begin() as db:
        environments.add_redirect_uri(
            world.rt, db, world.seed.environment, RedirectKind.INITIATE_LOGIN, "http://localhost:3000/sso/start"
        )
    response = encode(sign_assertion(build_response(world.fields(None)), world.idp))
    answer = world.post(response, None)
    assert answer.headers["location"].startswith("http://localhost:3000/sso/start?idp_initiated_login=")
    claims = signing.verify(world.rt, world.seed.environment, query(answer.headers["location"])["idp_initiated_login"])
    assert "relay_state" not in claims


def test_unsolicited_response_cannot_be_replayed(world: SamlWorld) -> None:
    world.reconfigure(allow_idp_initiated_login=True)
    response = encode(sign_assertion(build_response(world.fields(None)), world.idp))
    assert "idp_initiated_login=" in world.post(response, None).headers["location"]
    again = world.post(response, None)
    assert again.status_code == 400
    assert outcome(again) == "invalid_saml_response"
    assert "replay" in world.failures()[-1].diagnosis["got"]


def test_unsolicited_response_is_validated_like_any_other(world: SamlWorld) -> None:
    world.reconfigure(allow_idp_initiated_login=True)
    response = sign_assertion(build_response(world.fields(None, audience="https://other-sp.example")), world.idp)
    assert outcome(world.post(encode(response), None)) == "invalid_saml_response"
