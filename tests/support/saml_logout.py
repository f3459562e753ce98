"""A test IdP's side of SAML single logout: LogoutRequests and LogoutResponses built with lxml, signed with the
test IdP's key over either binding, and Entryway's own signed messages checked as an IdP checks them.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote_plus, unquote_plus, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from entryway.keys.material import load_certificate
from tests.support.saml_builder import EMAIL_FORMAT, NSMAP, IdpKey, instant, new_id, saml, samlp, sign

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
UNSET: object = object()


@dataclass
class LogoutRequestFields:
    issuer: str
    destination: object  # None leaves it out
    now: datetime
    name_id: str = "ada@example.com"
    session_indexes: list[str] = field(default_factory=list)
    request_id: str = field(default_factory=new_id)
    issue_instant: datetime | None = None  # defaults to now
    not_on_or_after: datetime | None = None  # defaults to now + 5 min
    extra_name_id: bool = False


def logout_request(f: LogoutRequestFields) -> etree._Element:
    root = etree.Element(samlp("LogoutRequest"), nsmap=NSMAP)
    root.set("ID", f.request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", instant(f.issue_instant or f.now))
    root.set("NotOnOrAfter", instant(f.not_on_or_after or f.now + timedelta(minutes=5)))
    if f.destination is not None:
        root.set("Destination", str(f.destination))
    etree.SubElement(root, saml("Issuer")).text = f.issuer
    for _ in range(2 if f.extra_name_id else 1):
        name_id = etree.SubElement(root, saml("NameID"))
        name_id.set("Format", EMAIL_FORMAT)
        name_id.text = f.name_id
    for index in f.session_indexes:
        etree.SubElement(root, samlp("SessionIndex")).text = index
    return root


def logout_response(
    *, issuer: str, destination: object, in_response_to: str | None, now: datetime, status: str = SUCCESS
) -> etree._Element:
    root = etree.Element(samlp("LogoutResponse"), nsmap=NSMAP)
    root.set("ID", new_id())
    root.set("Version", "2.0")
    root.set("IssueInstant", instant(now))
    if destination is not None:
        root.set("Destination", str(destination))
    if in_response_to is not None:
        root.set("InResponseTo", in_response_to)
    etree.SubElement(root, saml("Issuer")).text = issuer
    code = etree.SubElement(etree.SubElement(root, samlp("Status")), samlp("StatusCode"))
    code.set("Value", status)
    if status != SUCCESS:
        etree.SubElement(code, samlp("StatusCode")).set("Value", "urn:oasis:names:tc:SAML:2.0:status:PartialLogout")
    return root


def redirect_query(
    kind: str,
    message: etree._Element,
    relay_state: str | None,
    key: IdpKey | None,
    *,
    sig_alg: str = RSA_SHA256,
) -> str:
    """The HTTP-Redirect binding's query, signed over its encoded octets (unsigned when key is None)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    encoded = base64.b64encode(deflater.compress(etree.tostring(message)) + deflater.flush()).decode()
    parts = [f"{kind}={quote_plus(encoded)}"]
    if relay_state is not None:
        parts.append(f"RelayState={quote_plus(relay_state)}")
    if key is None:
        return "&".join(parts)
    parts.append(f"SigAlg={quote_plus(sig_alg)}")
    digest = hashes.SHA1() if sig_alg == RSA_SHA1 else hashes.SHA256()
    signature = key.private_key.sign("&".join(parts).encode(), padding.PKCS1v15(), digest)
    return "&".join(parts) + "&Signature=" + quote_plus(base64.b64encode(signature).decode())


def post_fields(kind: str, message: etree._Element, relay_state: str | None, key: IdpKey | None) -> dict[str, str]:
    signed = sign(message, key) if key is not None else message
    fields = {kind: base64.b64encode(etree.tostring(signed)).decode()}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return fields


def read_signed_redirect(location: str, certificate_pem: str) -> tuple[etree._Element, dict[str, str]]:
    """The message of a redirect Entryway sent, after checking its query signature with the SP certificate."""
    raw = dict(part.split("=", 1) for part in urlsplit(location).query.split("&"))
    kind = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse"
    octets = "&".join(f"{n}={raw[n]}" for n in (kind, "RelayState", "SigAlg") if n in raw)
    assert unquote_plus(raw["SigAlg"]) == RSA_SHA256
    load_certificate(certificate_pem).public_key().verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(unquote_plus(raw["Signature"])),
        octets.encode(),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        hashes.SHA256(),  # type: ignore[arg-type]
    )
    xml = zlib.decompress(base64.b64decode(unquote_plus(raw[kind])), -zlib.MAX_WBITS)
    return etree.fromstring(xml), {k: unquote_plus(v) for k, v in raw.items()}
