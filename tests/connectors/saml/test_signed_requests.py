"""Signed AuthnRequests: the redirect binding's query signature and the POST binding's enveloped XML signature,
made with the environment's SP key (the one the SP metadata publishes), when the connection asks for it or
the IdP's metadata does.
"""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import unquote_plus, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidDigest

from entryway.connectors.registry import connector_for
from entryway.keys.material import load_certificate
from entryway.services import logins
from entryway.store.after_commit import transaction
from tests.connectors.support import SamlWorld

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def _start(world: SamlWorld, login_hint: str | None = None) -> tuple[str, object]:
    with transaction(world.rt.engine) as db:
        request = logins.create_auth_request(
            world.rt,
            db,
            env=world.seed.environment,
            client_id=world.seed.client_id,
            redirect_uri="http://localhost:3000/callback",
            scope="openid",
            state=None,
            nonce=None,
            code_challenge=None,
            code_challenge_method=None,
            connection=world.connection,
            login_hint=login_hint,
            upstream_request_id=connector_for(world.connection).new_upstream_id(),
        )
    answer = connector_for(world.connection).start_login(world.rt, world.seed.environment, world.connection, request)
    return request.id, answer


def _sp_certificate(world: SamlWorld) -> str:
    pem = world.rt.keyring.active(world.env_id, "saml_sp").certificate_pem
    assert pem
    return pem


def _verify_query(raw_query: str, certificate_pem: str) -> None:
    """Verify as an IdP must: over the parameters exactly as they arrived, in binding order."""
    parts = dict(part.split("=", 1) for part in raw_query.split("&"))
    octets = "&".join(f"{name}={parts[name]}" for name in ("SAMLRequest", "RelayState", "SigAlg") if name in parts)
    signature = base64.b64decode(unquote_plus(parts["Signature"]))
    load_certificate(certificate_pem).public_key().verify(  # type: ignore[union-attr,call-arg]
        signature,
        octets.encode(),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        hashes.SHA256(),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("reason", ["want_request_signed", "idp_want_authn_requests_signed"])
def test_redirect_request_is_signed_over_the_query_it_sends(world: SamlWorld, reason: str) -> None:
    world.reconfigure(**{reason: True})
    auth_request_id, answer = _start(world, login_hint="ada@example.com")
    location = answer.headers["location"]  # type: ignore[attr-defined]
    raw_query = urlsplit(location).query
    names = [part.split("=", 1)[0] for part in raw_query.split("&")]
    assert names == ["SAMLRequest", "RelayState", "SigAlg", "Signature", "login_hint"]
    assert unquote_plus(dict(p.split("=", 1) for p in raw_query.split("&"))["SigAlg"]) == RSA_SHA256
    _verify_query(raw_query, _sp_certificate(world))
    tampered = raw_query.replace(f"RelayState={auth_request_id}", "RelayState=authreq_other")
    with pytest.raises(InvalidSignature):
        _verify_query(tampered, _sp_certificate(world))


def test_unsigned_by_default(world: SamlWorld) -> None:
    _, answer = _start(world)
    assert "Signature=" not in answer.headers["location"]  # type: ignore[attr-defined]


def test_post_request_carries_an_enveloped_signature_by_the_sp_key(world: SamlWorld) -> None:
    world.reconfigure(idp_sso_request_binding="HTTP_POST", want_request_signed=True)
    _, answer = _start(world)
    page = answer.body.decode()  # type: ignore[attr-defined]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    xml = base64.b64decode(unescape(fields["SAMLRequest"]))
    root = etree.fromstring(xml)
    signature = root.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert signature is not None and signature.getprevious() is not None
    assert etree.QName(signature.getprevious()).localname == "Issuer"
    verified = XMLVerifier().verify(xml, x509_cert=_sp_certificate(world)).signed_xml
    assert verified is not None and verified.get("ID") == root.get("ID")
    root.set("AssertionConsumerServiceURL", "https://evil.test/acs")
    with pytest.raises(InvalidDigest):
        XMLVerifier().verify(etree.tostring(root), x509_cert=_sp_certificate(world))


def test_sp_metadata_says_when_requests_are_signed(world: SamlWorld) -> None:
    url = world.connection.saml_config["sp_entity_id"] + "/metadata"
    before = etree.fromstring(world.http.get(url).content)
    assert before.find(f"{{{MD}}}SPSSODescriptor").get("AuthnRequestsSigned") == "false"  # type: ignore[union-attr]
    world.reconfigure(want_request_signed=True)
    after = etree.fromstring(world.http.get(url).content)
    assert after.find(f"{{{MD}}}SPSSODescriptor").get("AuthnRequestsSigned") == "true"  # type: ignore[union-attr]
