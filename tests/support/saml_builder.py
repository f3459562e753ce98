"""Build SAML 2.0 Responses for tests, the way an IdP would, with a knob for every field.

Independent of Entryway's own simulator: the tests must not trust the code they test to build their input.
Signing goes through signxml (enveloped, exclusive c14n by default) with keys made here; every knob (which
element is signed, by which key, which certificate KeyInfo carries, which algorithms) can be turned so a
test can build exactly the forgery it means to check.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import CanonicalizationMethod, SignatureReference, XMLSigner

from tests.support.certificates import self_signed

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"samlp": SAMLP, "saml": SAML}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
UNSET = object()  # "follow the default", distinct from None ("leave the attribute out")


def samlp(local: str) -> str:
    return f"{{{SAMLP}}}{local}"


def saml(local: str) -> str:
    return f"{{{SAML}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"


def new_id() -> str:
    return "_" + secrets.token_hex(16)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class IdpKey:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def certificate_base64(self) -> str:
        """The bare base64 body, as IdP metadata carries it."""
        return base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()


def new_idp_key(common_name: str = "Test IdP") -> IdpKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, common_name, datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC))
    return IdpKey(key, cert)


@lru_cache(maxsize=4)
def shared_key(name: str) -> IdpKey:
    """Keys are slow to make; tests share one per name ("idp", "attacker", …) for the whole session."""
    return new_idp_key(f"Test key {name}")


@dataclass
class ResponseFields:
    """Every field of a Response and its one Assertion. Defaults make a valid response for the connection."""

    idp_entity_id: str
    sp_entity_id: str
    acs_url: str
    now: datetime
    in_response_to: str | None = None
    response_in_response_to: object = UNSET  # defaults to in_response_to
    name_id: str = "ada@example.com"
    name_id_format: str | None = EMAIL_FORMAT
    attributes: dict[str, list[str]] | None = None  # None: email, firstName, lastName of the default user
    response_issuer: object = UNSET  # defaults to idp_entity_id; None leaves it out
    assertion_issuer: str | None = None  # defaults to idp_entity_id
    audience: str | None = None  # defaults to sp_entity_id
    recipient: str | None = None  # defaults to acs_url
    destination: object = UNSET  # defaults to acs_url; None leaves it out
    not_before: datetime | None = None  # defaults to now - 5 min
    not_on_or_after: datetime | None = None  # defaults to now + 5 min
    confirmation_not_on_or_after: datetime | None = None  # defaults to now + 5 min
    status: str = SUCCESS
    sub_status: str | None = None
    assertion_id: str = field(default_factory=new_id)
    response_id: str = field(default_factory=new_id)
    session_index: str = field(default_factory=new_id)


def default_attributes(fields: ResponseFields) -> dict[str, list[str]]:
    return {"email": [fields.name_id], "firstName": ["Ada"], "lastName": ["Lovelace"]}


def build_response(f: ResponseFields) -> etree._Element:
    """An unsigned Response holding one unsigned Assertion (none when the status is not Success)."""
    response = etree.Element(samlp("Response"), nsmap=NSMAP)
    response.set("ID", f.response_id)
    response.set("Version", "2.0")
    response.set("IssueInstant", instant(f.now))
    destination = f.acs_url if f.destination is UNSET else f.destination
    if destination is not None:
        response.set("Destination", str(destination))
    answering = f.in_response_to if f.response_in_response_to is UNSET else f.response_in_response_to
    if answering is not None:
        response.set("InResponseTo", str(answering))
    issuer = f.idp_entity_id if f.response_issuer is UNSET else f.response_issuer
    if issuer is not None:
        etree.SubElement(response, saml("Issuer")).text = str(issuer)
    status = etree.SubElement(response, samlp("Status"))
    code = etree.SubElement(status, samlp("StatusCode"))
    code.set("Value", f.status)
    if f.sub_status:
        etree.SubElement(code, samlp("StatusCode")).set("Value", f.sub_status)
    if f.status == SUCCESS:
        response.append(build_assertion(f))
    return response


def build_assertion(f: ResponseFields) -> etree._Element:
    assertion = etree.Element(saml("Assertion"), nsmap=NSMAP)
    assertion.set("ID", f.assertion_id)
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", instant(f.now))
    etree.SubElement(assertion, saml("Issuer")).text = f.assertion_issuer or f.idp_entity_id
    subject = etree.SubElement(assertion, saml("Subject"))
    name_id = etree.SubElement(subject, saml("NameID"))
    if f.name_id_format:
        name_id.set("Format", f.name_id_format)
    name_id.text = f.name_id
    confirmation = etree.SubElement(subject, saml("SubjectConfirmation"))
    confirmation.set("Method", BEARER)
    data = etree.SubElement(confirmation, saml("SubjectConfirmationData"))
    if f.in_response_to is not None:
        data.set("InResponseTo", f.in_response_to)
    data.set("NotOnOrAfter", instant(f.confirmation_not_on_or_after or f.now + timedelta(minutes=5)))
    data.set("Recipient", f.recipient or f.acs_url)
    conditions = etree.SubElement(assertion, saml("Conditions"))
    conditions.set("NotBefore", instant(f.not_before or f.now - timedelta(minutes=5)))
    conditions.set("NotOnOrAfter", instant(f.not_on_or_after or f.now + timedelta(minutes=5)))
    restriction = etree.SubElement(conditions, saml("AudienceRestriction"))
    etree.SubElement(restriction, saml("Audience")).text = f.audience or f.sp_entity_id
    authn = etree.SubElement(assertion, saml("AuthnStatement"))
    authn.set("AuthnInstant", instant(f.now))
    authn.set("SessionIndex", f.session_index)
    context = etree.SubElement(authn, saml("AuthnContext"))
    etree.SubElement(
        context, saml("AuthnContextClassRef")
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    attributes = default_attributes(f) if f.attributes is None else f.attributes
    if attributes:
        statement = etree.SubElement(assertion, saml("AttributeStatement"))
        for name, values in attributes.items():
            attribute = etree.SubElement(statement, saml("Attribute"))
            attribute.set("Name", name)
            for value in values:
                etree.SubElement(attribute, saml("AttributeValue")).text = value
    return assertion


class _Sha1Signer(XMLSigner):
    """signxml refuses to make SHA-1 signatures; tests need one to check the SP refuses to accept them."""

    def check_deprecated_methods(self) -> None:
        return None


def sign(
    element: etree._Element,
    key: IdpKey,
    *,
    keyinfo_certificate: x509.Certificate | object | None = UNSET,
    signature_algorithm: str = "rsa-sha256",
    digest_algorithm: str = "sha256",
    c14n_algorithm: str = EXC_C14N.value,
    reference_uri: str | None = None,
    reference_c14n_algorithm: str | None = None,
) -> etree._Element:
    """Return a signed copy of `element` (a Response or an Assertion), the Signature right after its Issuer.

    `keyinfo_certificate` is the certificate written to KeyInfo (default: the signing key's own; None: none).
    `reference_c14n_algorithm` sets the Reference's c14n transform apart from SignedInfo's c14n.
    """
    copy = etree.fromstring(etree.tostring(element))
    issuer = copy.find(saml("Issuer"))
    placeholder = etree.Element(ds("Signature"), nsmap={"ds": DS})
    placeholder.set("Id", "placeholder")
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        copy.insert(0, placeholder)
    signer_class = _Sha1Signer if "sha1" in (signature_algorithm + digest_algorithm) else XMLSigner
    signer = signer_class(
        signature_algorithm=signature_algorithm, digest_algorithm=digest_algorithm, c14n_algorithm=c14n_algorithm
    )
    chosen = key.certificate if keyinfo_certificate is UNSET else keyinfo_certificate
    signed: etree._Element = signer.sign(
        copy,
        key=key.private_key,
        cert=[chosen] if chosen is not None else None,
        reference_uri=[
            SignatureReference(
                URI=reference_uri or "#" + copy.get("ID", ""),
                c14n_method=CanonicalizationMethod(reference_c14n_algorithm or c14n_algorithm),
            )
        ],
    )
    if chosen is None:
        for key_info in signed.iter(ds("KeyInfo")):
            key_info.getparent().remove(key_info)
    return signed


def sign_assertion(response: etree._Element, key: IdpKey, **options: object) -> etree._Element:
    """The response with its assertion replaced by a signed copy of it."""
    assertion = response.find(saml("Assertion"))
    assert assertion is not None, "the response has no assertion to sign"
    signed = sign(assertion, key, **options)  # type: ignore[arg-type]
    response.replace(assertion, signed)
    return response


def sign_response(response: etree._Element, key: IdpKey, **options: object) -> etree._Element:
    return sign(response, key, **options)  # type: ignore[arg-type]


def serialize(response: etree._Element) -> bytes:
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def encode(document: etree._Element | bytes) -> str:
    raw = document if isinstance(document, bytes) else serialize(document)
    return base64.b64encode(raw).decode("ascii")


def assertion_of(response: etree._Element) -> etree._Element:
    found = response.find(saml("Assertion"))
    assert found is not None
    return found


def name_id_of(response: etree._Element) -> etree._Element:
    found = response.find(f"{saml('Assertion')}/{saml('Subject')}/{saml('NameID')}")
    assert found is not None
    return found
