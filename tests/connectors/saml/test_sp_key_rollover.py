"""SAML SP key rollover (issue 3 point 3): `keys rotate --purpose saml_sp` publishes the next key in the SP
metadata beside the current one, switches signing to it when the grace period ends, and retires the old one,
which leaves the metadata but still decrypts for the retention period. Signed AuthnRequests verify with a
certificate the metadata published at every moment.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from entryway.clock import FrozenClock
from entryway.keys import rotation
from entryway.keys.keyring import DEFAULT_RETAIN_SECONDS
from entryway.keys.material import load_certificate
from entryway.model.errors import ApiError
from tests.cli.conftest import Run
from tests.connectors.saml.test_signed_requests import _start as start_login
from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import build_response, encode, sign_assertion
from tests.support.saml_encryption import encrypt_assertion

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
GRACE = 3600


def metadata_certificates(world: SamlWorld, use: str = "signing") -> list[str]:
    root = etree.fromstring(world.http.get(f"/sso/v1/saml/{world.connection.id}/metadata").content)
    return [
        "-----BEGIN CERTIFICATE-----\n" + str(e.text) + "\n-----END CERTIFICATE-----\n"
        for e in root.iterfind(f".//{{{MD}}}KeyDescriptor[@use='{use}']//{{{DS}}}X509Certificate")
    ]


def signed_request_query(world: SamlWorld) -> str:
    _, answer = start_login(world)
    return urlsplit(answer.headers["location"]).query


def verifies_with(raw_query: str, certificate_pem: str) -> bool:
    parts = dict(part.split("=", 1) for part in raw_query.split("&"))
    octets = "&".join(f"{name}={parts[name]}" for name in ("SAMLRequest", "RelayState", "SigAlg") if name in parts)
    key = load_certificate(certificate_pem).public_key()
    try:
        key.verify(  # type: ignore[union-attr,call-arg]
            base64.b64decode(unquote_plus(parts["Signature"])),
            octets.encode(),
            padding.PKCS1v15(),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )
    except InvalidSignature:
        return False
    return True


def rotate(world: SamlWorld, grace: int = GRACE) -> rotation.Rotation:
    with world.rt.engine.begin() as db:
        return rotation.rotate(world.rt, db, world.env_id, grace, purpose="saml_sp")


def test_rollover_publishes_next_then_switches_then_retires(world: SamlWorld) -> None:
    world.reconfigure(want_request_signed=True)
    clock = world.rt.clock
    assert isinstance(clock, FrozenClock)
    [old] = metadata_certificates(world)
    assert verifies_with(signed_request_query(world), old)

    done = rotate(world)
    both = metadata_certificates(world)
    assert both[0] == old and len(both) == 2  # the signing key first, the next one beside it
    new = both[1]
    # Within the grace period the current key still signs: an IdP that has not re-read the metadata is fine.
    clock.advance(seconds=GRACE - 1)
    query = signed_request_query(world)
    assert verifies_with(query, old) and not verifies_with(query, new)

    clock.advance(seconds=1)  # the switch, on every instance, by the stored time
    query = signed_request_query(world)
    assert verifies_with(query, new) and not verifies_with(query, old)
    assert metadata_certificates(world) == [new]  # the old key left the metadata
    with world.rt.engine.begin() as db:
        states = {s.kid: s for s in rotation.key_states(world.rt, db, world.env_id, "saml_sp")}
    assert states[done.new_kid].status == "active"
    assert [s.status for k, s in states.items() if k != done.new_kid] == ["retired"]


def test_encrypted_assertions_decrypt_with_every_key_in_service_and_the_retained_one(world: SamlWorld) -> None:
    world.reconfigure(assertion_encrypted=True)
    clock = world.rt.clock
    assert isinstance(clock, FrozenClock)
    [old] = metadata_certificates(world, "encryption")
    rotate(world)
    [_, new] = metadata_certificates(world, "encryption")

    def login_encrypted_to(certificate: str) -> str:
        request, upstream = world.new_login()
        response = sign_assertion(build_response(world.fields(upstream)), world.idp)
        return outcome(world.post(encode(encrypt_assertion(response, certificate)), request.id))

    assert login_encrypted_to(new) == "code"  # an IdP that already took the next key
    assert login_encrypted_to(old) == "code"
    clock.advance(seconds=GRACE + DEFAULT_RETAIN_SECONDS - 60)
    assert login_encrypted_to(old) == "code"  # a late IdP, within the retention period
    clock.advance(seconds=60)
    assert login_encrypted_to(old) == "invalid_saml_response"  # the retired key decrypts no more
    assert world.failures()[-1].diagnosis["got"] == "decryption failed"
    assert login_encrypted_to(new) == "code"


def test_one_pending_rollover_at_a_time_and_a_grace_that_covers_the_metadata_cache(world: SamlWorld) -> None:
    with pytest.raises(ApiError) as short:
        rotate(world, grace=rotation.JWKS_MAX_AGE)
    assert short.value.status == 400 and "SP metadata" in short.value.message
    rotate(world)
    with pytest.raises(ApiError) as again:
        rotate(world)
    assert again.value.status == 409
    with world.rt.engine.begin() as db:
        # The OIDC keys rotate on their own: a pending SP rollover does not block them.
        assert rotation.rotate(world.rt, db, world.env_id, purpose="oidc").new_kid


def test_default_grace_for_the_sp_key_is_a_week(world: SamlWorld) -> None:
    with world.rt.engine.begin() as db:
        done = rotation.rotate(world.rt, db, world.env_id, purpose="saml_sp")
    assert (done.signs_from - world.rt.clock.now()).total_seconds() == 7 * 86400


def test_cli_rotates_the_sp_key_and_names_the_connections_whose_idp_needs_the_metadata(
    world: SamlWorld, run: Run
) -> None:
    world.reconfigure(want_request_signed=True)
    rotated = run("keys", "rotate", "--purpose", "saml_sp", "--grace", "600", "--env", world.env_id, "--json")
    result = json.loads(rotated.stdout)
    assert result["purpose"] == "saml_sp"
    assert result["update_idp_metadata_before_signs_from"] == [world.connection.id]
    listed = json.loads(run("keys", "list", "--purpose", "saml_sp", "--env", world.env_id, "--json").stdout)["keys"]
    assert {k["kid"]: k["status"] for k in listed}[result["kid"]] == "next"
    assert len(listed) == 2
    oidc = json.loads(run("keys", "list", "--env", world.env_id, "--json").stdout)["keys"]
    assert result["kid"] not in {k["kid"] for k in oidc}
    assert "is not one of" in run("keys", "rotate", "--purpose", "simulator", ok=False).output
