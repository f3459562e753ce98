"""Single logout messages over the HTTP-Redirect and HTTP-POST bindings (SAML bindings §3.4, §3.5), both ways.

Received: a logout message is trusted only when signed by one of the connection's certificates (SAML
profiles §4.4.3.1 and §4.4.3.3 require it). Over Redirect the signature covers the query octets exactly as
they arrived ("SAMLRequest=…&RelayState=…&SigAlg=…", values still URL-encoded) and is checked with
`cryptography` (RSA with SHA-256 or stronger; SHA-1 only where the connection allows it); over POST the message
carries an enveloped XML signature, verified by signature.py (signxml) like any response, and only the node it
returns is read. Sent: LogoutRequests and LogoutResponses are always signed with the environment's SP key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from starlette.responses import Response

from entryway.connectors.saml import bindings
from entryway.connectors.saml.certificates import fingerprints
from entryway.connectors.saml.namespaces import ds
from entryway.connectors.saml.parsing import decode_base64, inflate, malformed, parse_xml
from entryway.connectors.saml.request_signing import sign_request_xml, signed_query
from entryway.connectors.saml.signature import verify_enveloped
from entryway.keys.keyring import SigningKey
from entryway.model.errors import LoginError

MESSAGE_FIELDS = ("SAMLRequest", "SAMLResponse")
MAX_QUERY = 64 * 1024
MAX_RELAY_STATE = 1024
_XMLDSIG_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
QUERY_SIGNATURE_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    _XMLDSIG_MORE + "rsa-sha256": hashes.SHA256,
    _XMLDSIG_MORE + "rsa-sha384": hashes.SHA384,
    _XMLDSIG_MORE + "rsa-sha512": hashes.SHA512,
}
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


@dataclass(frozen=True)
class ReceivedMessage:
    kind: str  # SAMLRequest (the IdP starts a logout) or SAMLResponse (it answers Entryway's)
    root: etree._Element  # covered by a verified signature
    relay_state: str | None
    binding: str  # HTTP_REDIRECT | HTTP_POST


def _unsigned(got: str) -> LoginError:
    return LoginError.wanted_got(
        "signature_validation_failed",
        "The logout message is not signed: the IdP must sign its logout messages",
        "a signed logout message",
        got,
    )


def _refused(reason: str, certificates: list[x509.Certificate]) -> LoginError:
    return LoginError(
        "signature_validation_failed",
        "The logout message is not signed by a certificate of this connection",
        {
            "wanted": "a valid signature by one of the connection's certificates",
            "got": reason,
            "certificate_sha256": fingerprints(certificates),
        },
    )


def _relay_state(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_RELAY_STATE:
        raise malformed("The RelayState is too long", f"at most {MAX_RELAY_STATE} characters", f"{len(value)}")
    return value or None


def _raw_parameters(raw_query: str) -> dict[str, str]:
    """The query's parameters with their values as sent (still URL-encoded): the redirect signature covers them."""
    if len(raw_query) > MAX_QUERY:
        raise malformed("The logout message is too large", f"a query of at most {MAX_QUERY} bytes", "a larger one")
    raw: dict[str, str] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name in raw:
            raise malformed(f"The query repeats {name}", f"one {name}", f"several {name} parameters")
        raw[name] = value
    return raw


def _verify_query_signature(
    raw: dict[str, str], kind: str, certificates: list[x509.Certificate], *, allow_sha1: bool
) -> None:
    if "Signature" not in raw or "SigAlg" not in raw:
        raise _unsigned("no SigAlg and Signature in the query")
    algorithm = unquote_plus(raw["SigAlg"])
    hash_type = QUERY_SIGNATURE_ALGORITHMS.get(algorithm)
    if hash_type is None and algorithm == RSA_SHA1 and allow_sha1:
        hash_type = hashes.SHA1
    if hash_type is None:
        raise LoginError.wanted_got(
            "signature_validation_failed",
            "The logout message is signed with an algorithm Entryway does not accept: use RSA-SHA256",
            "RSA with SHA-256 or stronger",
            algorithm[:200],
        )
    try:
        signature = base64.b64decode(unquote_plus(raw["Signature"]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refused("the Signature parameter is not base64", certificates) from exc
    octets = "&".join(f"{name}={raw[name]}" for name in (kind, "RelayState", "SigAlg") if name in raw)
    for certificate in certificates:
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            continue
        try:
            public_key.verify(signature, octets.encode("ascii"), padding.PKCS1v15(), hash_type())
        except InvalidSignature:
            continue
        return
    raise _refused("the query signature does not verify with any configured certificate", certificates)


def receive_redirect(raw_query: str, certificates: list[x509.Certificate], *, allow_sha1: bool) -> ReceivedMessage:
    raw = _raw_parameters(raw_query)
    kinds = [name for name in MESSAGE_FIELDS if name in raw]
    if len(kinds) != 1:
        raise malformed("The query must carry one SAMLRequest or SAMLResponse", "one of them", f"{len(kinds)}")
    kind = kinds[0]
    relay_state = _relay_state(unquote_plus(raw["RelayState"]) if "RelayState" in raw else None)
    # The signature is checked before the message is even decoded: nothing unsigned is parsed further.
    _verify_query_signature(raw, kind, certificates, allow_sha1=allow_sha1)
    xml = inflate(decode_base64(unquote_plus(raw[kind]), what=kind), what=kind)
    return ReceivedMessage(kind, parse_xml(xml, what=kind), relay_state, "HTTP_REDIRECT")


def receive_post(
    form: dict[str, str], certificates: list[x509.Certificate], *, allow_sha1: bool, now: object
) -> ReceivedMessage:
    kinds = [name for name in MESSAGE_FIELDS if form.get(name)]
    if len(kinds) != 1:
        raise malformed("The form must carry one SAMLRequest or SAMLResponse", "one of them", f"{len(kinds)}")
    kind = kinds[0]
    relay_state = _relay_state(form.get("RelayState"))
    root = parse_xml(decode_base64(form[kind], what=kind), what=kind)
    if root.find(ds("Signature")) is None:
        raise _unsigned("no enveloped XML signature")
    verified = verify_enveloped(root, certificates, allow_sha1=allow_sha1, now=now)
    return ReceivedMessage(kind, verified, relay_state, "HTTP_POST")


def send(kind: str, xml: bytes, destination: str, binding: str, relay_state: str | None, key: SigningKey) -> Response:
    """A signed logout message to the IdP: a redirect with a query signature, or a self-posting form."""
    if binding == "HTTP_POST":
        fields = {kind: bindings.b64(sign_request_xml(xml, key))}
        if relay_state:
            fields["RelayState"] = relay_state
        return bindings.post_form(destination, fields, title="Signing you out…")
    params = {kind: bindings.deflate_and_encode(xml)}
    if relay_state:
        params["RelayState"] = relay_state
    return bindings.redirect(destination, signed_query(params, key))
