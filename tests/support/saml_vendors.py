"""SAML Responses in the shapes real IdP products send (IDP-FACTS §1.4, from captured responses): their XML
prefixes, Issuer formats, NameID formats, attribute names and styles, validity windows, and which element
they sign. Built here with lxml and signed through tests/support/saml_builder.sign with each vendor's own key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from tests.support.saml_builder import (
    BEARER,
    SAML,
    SAMLP,
    SUCCESS,
    IdpKey,
    ResponseFields,
    instant,
    new_id,
    saml,
    samlp,
    sign,
)

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
CONSENT = "urn:oasis:names:tc:SAML:2.0:consent:unspecified"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED_11 = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
UNSPECIFIED_10 = "urn:oasis:names:tc:SAML:1.0:nameid-format:unspecified"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
UNSPECIFIED_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
PPT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


@dataclass(frozen=True)
class Attr:
    name: str
    values: tuple[str, ...]
    friendly_name: str | None = None


@dataclass(frozen=True)
class VendorShape:
    name: str
    response_prefix: str | None  # None: the default namespace
    assertion_prefix: str | None
    name_id_format: str | None
    sign_response: bool
    sign_assertion: bool
    issuer_format: str | None = None
    consent: bool = False
    attribute_name_format: str | None = None
    typed_values: bool = False  # xsi:type="xs:string" with its own xmlns on each value (Okta, Ping)
    not_before: timedelta = timedelta(minutes=-5)
    not_on_or_after: timedelta = timedelta(minutes=5)
    id_style: str = "_"  # a prefix for IDs (Okta "id", Ping "id-", Keycloak "ID_")
    extra: dict[str, str] = field(default_factory=dict)


def _element(parent: etree._Element | None, tag: str, nsmap: dict[str | None, str] | None = None) -> etree._Element:
    if parent is None:
        return etree.Element(tag, nsmap=nsmap)
    return etree.SubElement(parent, tag, nsmap=nsmap)


def build_vendor_response(
    shape: VendorShape, f: ResponseFields, attributes: list[Attr], key: IdpKey, *, now: datetime | None = None
) -> etree._Element:
    """A Response shaped like `shape`, for `f` (IDs, audience, ACS, InResponseTo), signed as the vendor signs."""
    now = now or f.now
    response = _element(None, samlp("Response"), {shape.response_prefix: SAMLP})
    response.set("ID", shape.id_style + new_id()[1:])
    response.set("Version", "2.0")
    response.set("IssueInstant", instant(now))
    response.set("Destination", f.acs_url)
    if f.in_response_to:
        response.set("InResponseTo", f.in_response_to)
    if shape.consent:
        response.set("Consent", CONSENT)
    issuer = _element(response, saml("Issuer"), {shape.assertion_prefix: SAML})
    issuer.text = f.idp_entity_id
    if shape.issuer_format:
        issuer.set("Format", shape.issuer_format)
    status = _element(response, samlp("Status"))
    _element(status, samlp("StatusCode")).set("Value", SUCCESS)

    assertion = _element(response, saml("Assertion"), {shape.assertion_prefix: SAML})
    assertion.set("ID", shape.id_style + new_id()[1:])
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", instant(now))
    assertion_issuer = _element(assertion, saml("Issuer"))
    assertion_issuer.text = f.idp_entity_id
    if shape.issuer_format:
        assertion_issuer.set("Format", shape.issuer_format)
    subject = _element(assertion, saml("Subject"))
    name_id = _element(subject, saml("NameID"))
    if shape.name_id_format:
        name_id.set("Format", shape.name_id_format)
    name_id.text = f.name_id
    confirmation = _element(subject, saml("SubjectConfirmation"))
    confirmation.set("Method", BEARER)
    data = _element(confirmation, saml("SubjectConfirmationData"))
    if f.in_response_to:
        data.set("InResponseTo", f.in_response_to)
    data.set("NotOnOrAfter", instant(now + shape.not_on_or_after))
    data.set("Recipient", f.acs_url)
    conditions = _element(assertion, saml("Conditions"))
    conditions.set("NotBefore", instant(now + shape.not_before))
    conditions.set("NotOnOrAfter", instant(now + shape.not_on_or_after))
    _element(_element(conditions, saml("AudienceRestriction")), saml("Audience")).text = f.sp_entity_id
    if attributes:
        statement = _element(assertion, saml("AttributeStatement"))
        for attr in attributes:
            attribute = _element(statement, saml("Attribute"))
            attribute.set("Name", attr.name)
            if attr.friendly_name:
                attribute.set("FriendlyName", attr.friendly_name)
            if shape.attribute_name_format:
                attribute.set("NameFormat", shape.attribute_name_format)
            for text in attr.values:
                nsmap: dict[str | None, str] | None = {"xs": XS, "xsi": XSI} if shape.typed_values else None
                value = _element(attribute, saml("AttributeValue"), nsmap)
                if shape.typed_values:
                    value.set(f"{{{XSI}}}type", "xs:string")
                value.text = text
    authn = _element(assertion, saml("AuthnStatement"))
    authn.set("AuthnInstant", instant(now))
    authn.set("SessionIndex", assertion.get("ID", ""))
    _element(_element(authn, saml("AuthnContext")), saml("AuthnContextClassRef")).text = PPT

    if shape.sign_assertion:
        response.replace(assertion, sign(assertion, key))
    if shape.sign_response:
        response = sign(response, key)
    return response


OKTA = VendorShape(
    "okta",
    "saml2p",
    "saml2",
    EMAIL,
    sign_response=True,
    sign_assertion=True,
    issuer_format=ENTITY,
    attribute_name_format=UNSPECIFIED_NAME_FORMAT,
    typed_values=True,
    id_style="id",
)
ENTRA = VendorShape(
    "entra-id",
    "samlp",
    None,
    EMAIL,
    sign_response=False,
    sign_assertion=True,
    not_on_or_after=timedelta(minutes=60),
)
GOOGLE = VendorShape("google", "saml2p", "saml2", UNSPECIFIED_11, sign_response=False, sign_assertion=True)
JUMPCLOUD = VendorShape(
    "jumpcloud",
    "saml2p",
    "saml2",
    UNSPECIFIED_10,
    sign_response=False,
    sign_assertion=True,
    issuer_format=ENTITY,
    consent=True,
)
ONELOGIN = VendorShape(
    "onelogin", "samlp", "saml", EMAIL, sign_response=True, sign_assertion=True, attribute_name_format=BASIC
)
PING = VendorShape(
    "pingidentity",
    "samlp",
    "saml",
    None,
    sign_response=False,
    sign_assertion=True,
    attribute_name_format=BASIC,
    typed_values=True,
    not_before=timedelta(minutes=-1),
    id_style="id-",
)
ADFS = VendorShape(
    "adfs",
    "samlp",
    None,
    EMAIL,
    sign_response=False,
    sign_assertion=True,
    consent=True,
    not_before=timedelta(0),
    not_on_or_after=timedelta(minutes=60),
)
SHIBBOLETH = VendorShape(
    "shibboleth", "saml2p", "saml2", TRANSIENT, sign_response=True, sign_assertion=False, attribute_name_format=URI
)
KEYCLOAK = VendorShape(
    "keycloak",
    "samlp",
    "saml",
    EMAIL,
    sign_response=True,
    sign_assertion=False,
    attribute_name_format=BASIC,
    typed_values=True,
    not_before=timedelta(0),
    not_on_or_after=timedelta(seconds=60),
    id_style="ID_",
)
