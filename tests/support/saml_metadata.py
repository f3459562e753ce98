"""IdP (and SP) metadata documents for tests, in the shapes real vendors publish (IDP-FACTS §1.2, §3).

Built with lxml by the tests themselves, independent of Entryway's parser: Entra ID's signed-looking document
with a UTF-8 BOM and WS-Federation RoleDescriptors ahead of the IDPSSODescriptor, Shibboleth's two signing
KeyDescriptors, Google's download without a metadata URL, and an SP document to paste in the wrong place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from tests.support.saml_builder import IdpKey

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
FED = "http://docs.oasis-open.org/wsfed/federation/200706"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
SOAP = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def md(local: str) -> str:
    return f"{{{MD}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"


@dataclass
class IdpMetadataFields:
    entity_id: str
    sso: dict[str, str]  # binding URN -> Location
    keys: list[IdpKey]
    slo: dict[str, str] = field(default_factory=dict)
    key_use: str | None = "signing"  # None leaves the use attribute out
    name_id_formats: list[str] = field(default_factory=lambda: [EMAIL])
    want_authn_requests_signed: bool | None = False
    encryption_key: IdpKey | None = None  # a KeyDescriptor use="encryption", never to be trusted for signing
    ws_fed_role: bool = False  # Entra ID / AD FS: a RoleDescriptor before the IDPSSODescriptor
    bom: bool = False
    valid_until: str | None = None


def _key_descriptor(parent: etree._Element, key: IdpKey, use: str | None) -> None:
    descriptor = etree.SubElement(parent, md("KeyDescriptor"))
    if use is not None:
        descriptor.set("use", use)
    data = etree.SubElement(etree.SubElement(descriptor, ds("KeyInfo")), ds("X509Data"))
    body = key.certificate_base64
    # Wrapped at 64 columns with surrounding whitespace, as AD FS and Shibboleth publish them.
    etree.SubElement(data, ds("X509Certificate")).text = (
        "\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64)) + "\n"
    )


def idp_metadata(f: IdpMetadataFields) -> bytes:
    root = etree.Element(md("EntityDescriptor"), nsmap={"md": MD, "ds": DS})
    root.set("entityID", f.entity_id)
    if f.valid_until:
        root.set("validUntil", f.valid_until)
    if f.ws_fed_role:
        role = etree.SubElement(root, md("RoleDescriptor"), nsmap={"fed": FED, "xsi": XSI})
        role.set(f"{{{XSI}}}type", "fed:SecurityTokenServiceType")
        role.set("protocolSupportEnumeration", FED)
        for key in f.keys:
            _key_descriptor(role, key, "signing")
    idp = etree.SubElement(root, md("IDPSSODescriptor"))
    idp.set("protocolSupportEnumeration", SAMLP)
    if f.want_authn_requests_signed is not None:
        idp.set("WantAuthnRequestsSigned", "true" if f.want_authn_requests_signed else "false")
    for key in f.keys:
        _key_descriptor(idp, key, f.key_use)
    if f.encryption_key is not None:
        _key_descriptor(idp, f.encryption_key, "encryption")
    for binding, location in f.slo.items():
        etree.SubElement(idp, md("SingleLogoutService"), Binding=binding, Location=location)
    for name_id_format in f.name_id_formats:
        etree.SubElement(idp, md("NameIDFormat")).text = name_id_format
    for binding, location in f.sso.items():
        etree.SubElement(idp, md("SingleSignOnService"), Binding=binding, Location=location)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return (b"\xef\xbb\xbf" + document) if f.bom else document


def sp_metadata(entity_id: str, acs_url: str, key: IdpKey) -> bytes:
    """A service provider's metadata: what an admin might paste by mistake where the IdP's belongs."""
    root = etree.Element(md("EntityDescriptor"), nsmap={"md": MD, "ds": DS})
    root.set("entityID", entity_id)
    sp = etree.SubElement(root, md("SPSSODescriptor"))
    sp.set("protocolSupportEnumeration", SAMLP)
    _key_descriptor(sp, key, "signing")
    etree.SubElement(sp, md("AssertionConsumerService"), Binding=POST, Location=acs_url, index="0")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
