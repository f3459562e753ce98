"""The simulator's identity provider: a real SAML 2.0 Response, its Assertion signed with the environment's
simulator key (enveloped, RSA-SHA256, SHA-256, exclusive c14n), exactly as a production IdP would send it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner

from entryway.connectors.saml.namespaces import (
    ATTRNAME_BASIC,
    AUTHN_PASSWORD_PROTECTED,
    CM_BEARER,
    DS,
    NAMEID_EMAIL,
    NSMAP,
    STATUS_SUCCESS,
    ds,
    saml,
    samlp,
)
from entryway.connectors.saml.parsing import format_instant
from entryway.keys.keyring import SigningKey
from entryway.model.connections import SsoConnection

VALIDITY = timedelta(minutes=5)
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"


class Outcome(StrEnum):
    LOGIN = "login"
    ERROR = "error"
    IDP_INITIATED = "idp_initiated"


@dataclass
class SimulatedUser:
    email: str
    first_name: str = ""
    last_name: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)  # (name, value); a name may repeat


def _new_id() -> str:
    return "_" + secrets.token_hex(20)


def build_response(
    connection: SsoConnection,
    key: SigningKey,
    user: SimulatedUser,
    *,
    outcome: Outcome,
    in_response_to: str | None,
    now: datetime,
) -> bytes:
    """The serialized Response. IdP-initiated responses answer no request, so they carry no InResponseTo."""
    config = connection.saml_config
    answering = in_response_to if outcome is not Outcome.IDP_INITIATED else None
    response = etree.Element(samlp("Response"), nsmap=NSMAP)
    response.set("ID", _new_id())
    response.set("Version", "2.0")
    response.set("IssueInstant", format_instant(now))
    response.set("Destination", str(config["sp_assertion_url"]))
    if answering:
        response.set("InResponseTo", answering)
    etree.SubElement(response, saml("Issuer")).text = str(config["idp_entity_id"])
    status = etree.SubElement(response, samlp("Status"))
    code = etree.SubElement(status, samlp("StatusCode"))
    if outcome is Outcome.ERROR:
        code.set("Value", STATUS_RESPONDER)
        etree.SubElement(code, samlp("StatusCode")).set("Value", STATUS_AUTHN_FAILED)
        etree.SubElement(status, samlp("StatusMessage")).text = "The simulated user chose to fail the login"
    else:
        code.set("Value", STATUS_SUCCESS)
        response.append(_signed_assertion(connection, key, user, answering, now))
    return etree.tostring(response, encoding="UTF-8", xml_declaration=True)


def _signed_assertion(
    connection: SsoConnection, key: SigningKey, user: SimulatedUser, in_response_to: str | None, now: datetime
) -> etree._Element:
    config = connection.saml_config
    assertion_id = _new_id()
    assertion = etree.Element(saml("Assertion"), nsmap=NSMAP)
    assertion.set("ID", assertion_id)
    assertion.set("Version", "2.0")
    assertion.set("IssueInstant", format_instant(now))
    etree.SubElement(assertion, saml("Issuer")).text = str(config["idp_entity_id"])
    # SAML's schema puts the Signature right after the Issuer; signxml replaces this placeholder.
    etree.SubElement(assertion, ds("Signature"), nsmap={"ds": DS}).set("Id", "placeholder")
    subject = etree.SubElement(assertion, saml("Subject"))
    name_id = etree.SubElement(subject, saml("NameID"))
    name_id.set("Format", NAMEID_EMAIL)
    name_id.text = user.email
    confirmation = etree.SubElement(subject, saml("SubjectConfirmation"))
    confirmation.set("Method", CM_BEARER)
    data = etree.SubElement(confirmation, saml("SubjectConfirmationData"))
    if in_response_to:
        data.set("InResponseTo", in_response_to)
    data.set("NotOnOrAfter", format_instant(now + VALIDITY))
    data.set("Recipient", str(config["sp_assertion_url"]))
    conditions = etree.SubElement(assertion, saml("Conditions"))
    conditions.set("NotBefore", format_instant(now - VALIDITY))
    conditions.set("NotOnOrAfter", format_instant(now + VALIDITY))
    restriction = etree.SubElement(conditions, saml("AudienceRestriction"))
    etree.SubElement(restriction, saml("Audience")).text = str(config["sp_entity_id"])
    authn = etree.SubElement(assertion, saml("AuthnStatement"))
    authn.set("AuthnInstant", format_instant(now))
    authn.set("SessionIndex", _new_id())
    context = etree.SubElement(authn, saml("AuthnContext"))
    etree.SubElement(context, saml("AuthnContextClassRef")).text = AUTHN_PASSWORD_PROTECTED
    statement = etree.SubElement(assertion, saml("AttributeStatement"))
    for name, values in _attributes(user).items():
        attribute = etree.SubElement(statement, saml("Attribute"))
        attribute.set("Name", name)
        attribute.set("NameFormat", ATTRNAME_BASIC)
        for value in values:
            etree.SubElement(attribute, saml("AttributeValue")).text = value
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed: etree._Element = signer.sign(
        assertion, key=key.private_key, cert=_certificate(key), reference_uri="#" + assertion_id
    )
    return signed


_certificates: dict[str, list[x509.Certificate]] = {}


def _certificate(key: SigningKey) -> list[x509.Certificate] | None:
    """The key's certificate for KeyInfo, parsed once per key (the SP ignores it, but real IdPs send it)."""
    if key.certificate_pem is None:
        return None
    found = _certificates.get(key.kid)
    if found is None:
        found = [x509.load_pem_x509_certificate(key.certificate_pem.encode())]
        _certificates[key.kid] = found
    return found


def _attributes(user: SimulatedUser) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {"email": [user.email]}
    if user.first_name:
        values["firstName"] = [user.first_name]
    if user.last_name:
        values["lastName"] = [user.last_name]
    for name, value in user.attributes:
        if name:
            values.setdefault(name, []).append(value)
    return values
