"""Reading an IdP's SAML metadata (SAML metadata §2.4.3): what Entryway needs to trust and reach the IdP.

The document goes through the same strict parser as every SAML message (no DOCTYPE, no entities, no
network). Only the one IDPSSODescriptor is read; WS-Federation RoleDescriptors (Entra ID, AD FS) and SP roles
are skipped. Every signing certificate is kept (KeyDescriptor use="signing" or without a use): IdPs publish
two during a rollover (Entra ID, AD FS) or a back- and front-channel pair (Shibboleth), and any of them may
sign. The metadata's own signature is not checked: the document is trusted as the admin's upload or a fetch
over HTTPS from the address the admin gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from entryway.connectors.saml.namespaces import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLP, ds, md
from entryway.connectors.saml.parsing import parse_instant, parse_xml, text_of
from entryway.keys.material import certificate_pem, load_certificate
from entryway.model.errors import LoginError

# Real IdP metadata is a few KB (Entra ID's, with its WS-Fed roles, about 25 KB); federation aggregates of
# many entities are not IdP metadata and are refused by size before parsing.
MAX_METADATA_BYTES = 1024 * 1024
BINDINGS = {BINDING_HTTP_REDIRECT: "HTTP_REDIRECT", BINDING_HTTP_POST: "HTTP_POST"}
_UTF8_BOM = b"\xef\xbb\xbf"


class MetadataProblem(ValueError):
    """The document cannot serve as this connection's IdP metadata; the message says why, for the admin."""


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_urls: dict[str, str]  # binding name (HTTP_REDIRECT / HTTP_POST) -> URL
    slo_urls: dict[str, str]
    signing_certificates: list[str]  # PEM, in document order, without duplicates
    name_id_formats: list[str] = field(default_factory=list)
    want_authn_requests_signed: bool = False
    valid_until: datetime | None = None

    @property
    def sso_binding(self) -> str:
        """The request binding Entryway will use: Redirect when offered (every vendor does), else POST."""
        return "HTTP_REDIRECT" if "HTTP_REDIRECT" in self.sso_urls else "HTTP_POST"

    @property
    def slo_binding(self) -> str | None:
        """Single logout goes over Redirect when the IdP offers it, else POST (some IdPs offer only POST)."""
        if "HTTP_REDIRECT" in self.slo_urls:
            return "HTTP_REDIRECT"
        return "HTTP_POST" if "HTTP_POST" in self.slo_urls else None

    @property
    def slo_url(self) -> str | None:
        return self.slo_urls[self.slo_binding] if self.slo_binding else None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else "a non-element node"


def _parse(document: bytes) -> etree._Element:
    if len(document) > MAX_METADATA_BYTES:
        raise MetadataProblem(f"the document is larger than {MAX_METADATA_BYTES // 1024} KiB")
    if document.startswith(_UTF8_BOM):
        document = document[len(_UTF8_BOM) :]  # Entra ID's federation metadata starts with one
    if not document.strip():
        raise MetadataProblem("the document is empty")
    try:
        return parse_xml(document, what="IdP metadata")
    except LoginError as exc:
        raise MetadataProblem(exc.message[0].lower() + exc.message[1:]) from exc


def _entity(root: etree._Element) -> etree._Element:
    """The one EntityDescriptor with an IdP role, alone or inside an EntitiesDescriptor."""
    if root.tag == md("EntityDescriptor"):
        entities = [root]
    elif root.tag == md("EntitiesDescriptor"):
        entities = list(root.iter(md("EntityDescriptor")))
    else:
        raise MetadataProblem(
            f"the document is not SAML metadata (its root element is {_local(root)!r}, wanted md:EntityDescriptor)"
        )
    idps = [e for e in entities if e.find(md("IDPSSODescriptor")) is not None]
    if len(idps) == 1:
        return idps[0]
    if len(idps) > 1:
        raise MetadataProblem(f"the document describes {len(idps)} identity providers: give the metadata of one")
    if any(e.find(md("SPSSODescriptor")) is not None for e in entities):
        raise MetadataProblem(
            "this is service provider (SP) metadata, not identity provider metadata: give the metadata your IdP "
            "publishes (it has an IDPSSODescriptor), not Entryway's SP metadata or another application's"
        )
    raise MetadataProblem("the document has no IDPSSODescriptor: it does not describe a SAML identity provider")


def _endpoints(descriptor: etree._Element, tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for endpoint in descriptor.findall(md(tag)):
        binding = BINDINGS.get(endpoint.get("Binding", ""))
        location = (endpoint.get("Location") or "").strip()
        if binding and location and binding not in found:
            found[binding] = location
    return found


def _signing_certificates(descriptor: etree._Element) -> list[str]:
    pems: list[str] = []
    for key_descriptor in descriptor.findall(md("KeyDescriptor")):
        if key_descriptor.get("use") not in (None, "signing"):
            continue
        for element in key_descriptor.iter(ds("X509Certificate")):
            text = text_of(element) or ""
            try:
                pem = certificate_pem(load_certificate(text))
            except (ValueError, TypeError) as exc:
                raise MetadataProblem(f"a signing certificate in the metadata cannot be read ({exc})") from exc
            if pem not in pems:
                pems.append(pem)
    return pems


def parse_idp_metadata(document: bytes) -> IdpMetadata:
    root = _parse(document)
    entity = _entity(root)
    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise MetadataProblem("the EntityDescriptor has no entityID")
    descriptors = [
        d for d in entity.findall(md("IDPSSODescriptor")) if SAMLP in (d.get("protocolSupportEnumeration") or "")
    ]
    if not descriptors:
        raise MetadataProblem("the IDPSSODescriptor does not support the SAML 2.0 protocol")
    descriptor = descriptors[0]
    sso_urls = _endpoints(descriptor, "SingleSignOnService")
    if not sso_urls:
        raise MetadataProblem("the IdP offers no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")
    certificates = _signing_certificates(descriptor)
    if not certificates:
        raise MetadataProblem("the IDPSSODescriptor has no signing certificate (KeyDescriptor with X509Certificate)")
    formats = [text for e in descriptor.findall(md("NameIDFormat")) if (text := text_of(e))]
    return IdpMetadata(
        entity_id=entity_id,
        sso_urls=sso_urls,
        slo_urls=_endpoints(descriptor, "SingleLogoutService"),
        signing_certificates=certificates,
        name_id_formats=list(dict.fromkeys(formats)),
        want_authn_requests_signed=descriptor.get("WantAuthnRequestsSigned") in ("true", "1"),
        valid_until=parse_instant(entity.get("validUntil") or root.get("validUntil")),
    )
