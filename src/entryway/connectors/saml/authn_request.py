"""The SP's AuthnRequest (SAML core §3.4.1): built with lxml, never by string formatting."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from entryway.connectors.saml.namespaces import BINDING_HTTP_POST, NSMAP, saml, samlp
from entryway.connectors.saml.parsing import format_instant, malformed, parse_xml, text_of
from entryway.model.connections import SsoConnection


@dataclass(frozen=True)
class AuthnRequest:
    id: str
    xml: bytes


def new_request_id() -> str:
    # An xs:ID must not start with a digit; 160 random bits make the ID unguessable as well as unique.
    return "_" + secrets.token_hex(20)


def build_authn_request(connection: SsoConnection, now: datetime, request_id: str | None = None) -> AuthnRequest:
    config = connection.saml_config
    request_id = request_id or new_request_id()
    root = etree.Element(samlp("AuthnRequest"), nsmap=NSMAP)
    root.set("ID", request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", format_instant(now))
    root.set("Destination", str(config.get("idp_sso_url", "")))
    root.set("AssertionConsumerServiceURL", str(config["sp_assertion_url"]))
    root.set("ProtocolBinding", BINDING_HTTP_POST)
    if config.get("force_authn"):
        root.set("ForceAuthn", "true")
    etree.SubElement(root, saml("Issuer")).text = str(config["sp_entity_id"])
    policy = etree.SubElement(root, samlp("NameIDPolicy"))
    name_id_format = config.get("idp_name_id_format")
    if name_id_format:
        policy.set("Format", str(name_id_format))
    policy.set("AllowCreate", "true")
    return AuthnRequest(request_id, etree.tostring(root, encoding="UTF-8", xml_declaration=False))


@dataclass(frozen=True)
class ReceivedAuthnRequest:
    """What an IdP reads from an AuthnRequest (the simulator is the only IdP in this code base)."""

    id: str
    issuer: str | None
    assertion_consumer_service_url: str | None


def read_authn_request(xml: bytes) -> ReceivedAuthnRequest:
    root = parse_xml(xml, what="AuthnRequest")
    if root.tag != samlp("AuthnRequest"):
        raise malformed("The SAMLRequest is not an AuthnRequest", "samlp:AuthnRequest", _local_name(root))
    request_id = root.get("ID")
    if not request_id:
        raise malformed("The AuthnRequest has no ID", "an ID attribute", "none")
    issuer = root.find(saml("Issuer"))
    return ReceivedAuthnRequest(request_id, text_of(issuer), root.get("AssertionConsumerServiceURL"))


def _local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else "a non-element node"
