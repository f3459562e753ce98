"""Signed AuthnRequests (SAML bindings §3.4.4.1 and §3.5; DESIGN §4: no hand-rolled XML-DSig).

HTTP-Redirect: the request XML travels unsigned and DEFLATEd; the signature covers the query string itself,
"SAMLRequest=…&RelayState=…&SigAlg=…" exactly as sent, with RSA-SHA256 (cryptography). HTTP-POST: the
AuthnRequest carries an enveloped XML signature made by signxml (exclusive c14n, RSA-SHA256), placed right
after the Issuer as the schema requires.

The key is the environment's SAML SP key, the one whose certificate the SP metadata publishes. A connection
signs when its admin asked for it (want_request_signed) or when the IdP's metadata says
WantAuthnRequestsSigned.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from urllib.parse import quote_plus

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import CanonicalizationMethod, SignatureReference, XMLSigner

from entryway.connectors.saml.namespaces import DS, ds, saml
from entryway.keys.keyring import SigningKey
from entryway.keys.material import load_certificate
from entryway.model.connections import SsoConnection

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


@lru_cache(maxsize=64)
def _certificate(pem: str) -> x509.Certificate:
    return load_certificate(pem)  # parsed once per SP key, not per login


def signs_requests(connection: SsoConnection) -> bool:
    config = connection.saml_config
    return config.get("want_request_signed") is True or config.get("idp_want_authn_requests_signed") is True


def signed_query(params: dict[str, str], key: SigningKey) -> dict[str, str]:
    """The redirect binding's parameters with SigAlg and Signature added over the exact encoded octets."""
    names = ("SAMLRequest", "SAMLResponse", "RelayState")  # the order SAML bindings §3.4.4.1 prescribes
    ordered = [(name, params[name]) for name in names if params.get(name) is not None]
    ordered.append(("SigAlg", RSA_SHA256))
    octets = "&".join(f"{name}={quote_plus(value)}" for name, value in ordered).encode("ascii")
    signature = key.private_key.sign(octets, padding.PKCS1v15(), hashes.SHA256())
    return {**dict(ordered), "Signature": base64.b64encode(signature).decode("ascii")}


def sign_request_xml(xml: bytes, key: SigningKey) -> bytes:
    """An enveloped signature over the whole message (AuthnRequest, LogoutRequest, LogoutResponse), for the POST
    binding; right after the Issuer, where the schema of every SAML protocol message puts it."""
    root = etree.fromstring(xml)
    placeholder = etree.Element(ds("Signature"), nsmap={"ds": DS})
    placeholder.set("Id", "placeholder")  # signxml replaces this element with the signature
    issuer = root.find(saml("Issuer"))
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        root.insert(0, placeholder)
    signer = XMLSigner(
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    certificates = [_certificate(key.certificate_pem)] if key.certificate_pem else None
    signed: etree._Element = signer.sign(
        root,
        key=key.private_key,
        cert=certificates,
        reference_uri=[SignatureReference(URI="#" + root.get("ID", ""))],
    )
    return etree.tostring(signed, encoding="UTF-8", xml_declaration=False)
