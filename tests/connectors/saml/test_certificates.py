"""Several trusted IdP certificates per connection: rotation overlap, an expired one beside a current one,
and the expiry of each shown in the API with a 30-day warning.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa

from entryway.connectors.saml.certificates import MAX_CONNECTIONS, connection_certificates
from entryway.keys.material import certificate_fingerprint
from tests.api.conftest import client_with, token_for
from tests.connectors.support import SamlWorld, outcome
from tests.support.certificates import self_signed
from tests.support.saml_builder import IdpKey, build_response, encode, shared_key, sign_assertion, sign_response


def key_valid(not_before: datetime, not_after: datetime, name: str) -> IdpKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, name, not_before, not_after)
    return IdpKey(key, cert)


def login(world: SamlWorld, key: IdpKey, *, whole_response: bool = False) -> str:
    request, upstream = world.new_login()
    response = build_response(world.fields(upstream))
    signed = sign_response(response, key) if whole_response else sign_assertion(response, key)
    return outcome(world.post(encode(signed), request.id))


def test_current_and_next_certificates_both_sign_during_a_rollover(world: SamlWorld) -> None:
    current, following = shared_key("idp"), shared_key("idp-next")
    world.reconfigure(idp_certificates=[current.certificate_pem, following.certificate_pem])
    assert login(world, current) == "code"
    assert login(world, following, whole_response=True) == "code"
    world.reconfigure(idp_certificates=[following.certificate_pem])  # the rollover is over
    assert login(world, current) == "signature_validation_failed"
    assert login(world, following) == "code"


def test_an_expired_certificate_beside_a_current_one_signs_nothing(world: SamlWorld) -> None:
    now = datetime.now(UTC)
    expired = key_valid(now - timedelta(days=400), now - timedelta(days=1), "Expired IdP key")
    current = shared_key("idp")
    world.reconfigure(idp_certificates=[expired.certificate_pem, current.certificate_pem])
    assert login(world, expired) == "signature_validation_failed"
    assert "expired or not yet valid" in world.failures()[-1].diagnosis["got"]
    assert login(world, current) == "code"


def test_each_certificate_shows_its_expiry_and_a_30_day_warning(world: SamlWorld) -> None:
    now = datetime.now(UTC)
    soon = key_valid(now - timedelta(days=300), now + timedelta(days=10), "Expiring IdP key")
    later = key_valid(now - timedelta(days=1), now + timedelta(days=400), "Next IdP key")
    body = {
        "type": "SAML",
        "provider": "OKTA",
        "saml_config": {
            "idp_entity_id": "https://idp.example",
            "idp_sso_url": "https://idp.example/sso",
            "idp_certificates": [soon.certificate_pem, later.certificate_pem],
        },
    }
    with client_with(world.rt, world.seed, token_for(world.rt, world.seed, ["*"])) as api:
        response = api.post(f"/api/v1/organizations/{world.seed.organization_id}/connections", json=body)
    assert response.status_code == 201, response.text
    shown = response.json()["connection"]["saml_config"]["idp_certificates"]
    assert [c["fingerprint_sha256"] for c in shown] == [
        certificate_fingerprint(soon.certificate),
        certificate_fingerprint(later.certificate),
    ]
    assert [c["expires_soon"] for c in shown] == [True, False]
    assert shown[0]["expire_time"] == soon.certificate.not_valid_after_utc.isoformat().replace("+00:00", "Z")
    assert shown[1]["subject"] == "CN=Next IdP key"


def test_parsed_certificates_are_kept_for_the_most_recently_used_connections_only(world: SamlWorld) -> None:
    # With 100,000 organizations every connection that ever logged in would stay parsed in every worker.
    first, *others = [replace(world.connection, id=f"conn_{n}") for n in range(MAX_CONNECTIONS + 1)]
    kept = connection_certificates(world.rt, first)
    assert connection_certificates(world.rt, first) is kept  # parsed once while it is kept
    for connection in others:
        connection_certificates(world.rt, connection)
    assert len(world.rt.caches["saml_idp_certificates"]) == MAX_CONNECTIONS  # type: ignore[arg-type]
    again = connection_certificates(world.rt, first)  # dropped as the least recently used: parsed again
    assert again is not kept
    assert [certificate_fingerprint(c) for c in again] == [certificate_fingerprint(c) for c in kept]
