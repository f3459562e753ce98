"""The SP metadata document an IdP admin imports (CONTRACT §4): entity ID, ACS, SLO, NameID format, SP keys.

Every SP key in service is listed: during a rollover the next key appears beside the one signing today, so an
IdP that re-reads the metadata within the grace period trusts both before the switch (keys/rotation.py). The
document changes only when the connection or that set of keys changes, so it is built once per (connection
version, keys) and served from memory: the MAX_DOCUMENTS most recently built, since with 100,000 organizations
a document kept for every connection whose metadata was ever read would grow a worker without bound (a few KB
each); an older one is built again in about a millisecond.
"""

from __future__ import annotations

import threading

from lxml import etree

from entryway.connectors.saml.decryption import ADVERTISED
from entryway.connectors.saml.namespaces import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    DS,
    MD,
    NAMEID_UNSPECIFIED,
    SAMLP,
    ds,
    md,
)
from entryway.connectors.saml.request_signing import signs_requests
from entryway.connectors.saml.sp_key import metadata_keys
from entryway.keys.keyring import SigningKey
from entryway.keys.material import certificate_body
from entryway.model.connections import SsoConnection
from entryway.recent_cache import keep_recent
from entryway.runtime import Runtime
from entryway.services.connections import sp_slo_url

MEDIA_TYPE = "application/samlmetadata+xml"
MAX_DOCUMENTS = 256
_lock = threading.Lock()


def build_metadata(connection: SsoConnection, sp_keys: list[SigningKey], slo_url: str) -> bytes:
    config = connection.saml_config
    root = etree.Element(md("EntityDescriptor"), nsmap={"md": MD, "ds": DS})
    root.set("entityID", str(config["sp_entity_id"]))
    sp = etree.SubElement(root, md("SPSSODescriptor"))
    sp.set("AuthnRequestsSigned", "true" if signs_requests(connection) else "false")
    sp.set("WantAssertionsSigned", "true")
    sp.set("protocolSupportEnumeration", SAMLP)
    # The SP key also decrypts: published for encryption when the connection expects encrypted assertions
    # (Shibboleth refuses to answer an SP without one; AD FS encrypts whenever one is published).
    uses = ("signing", "encryption") if config.get("assertion_encrypted") is True else ("signing",)
    for sp_key in sp_keys:
        for use in uses if sp_key.certificate_pem else ():
            key_descriptor = etree.SubElement(sp, md("KeyDescriptor"))
            key_descriptor.set("use", use)
            x509_data = etree.SubElement(etree.SubElement(key_descriptor, ds("KeyInfo")), ds("X509Data"))
            etree.SubElement(x509_data, ds("X509Certificate")).text = certificate_body(str(sp_key.certificate_pem))
            if use == "encryption":
                for algorithm in ADVERTISED:
                    etree.SubElement(key_descriptor, md("EncryptionMethod")).set("Algorithm", algorithm)
    # Schema order: SingleLogoutService before NameIDFormat. Both bindings arrive at the one SLO endpoint.
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        slo = etree.SubElement(sp, md("SingleLogoutService"))
        slo.set("Binding", binding)
        slo.set("Location", slo_url)
    etree.SubElement(sp, md("NameIDFormat")).text = str(config.get("idp_name_id_format") or NAMEID_UNSPECIFIED)
    acs = etree.SubElement(sp, md("AssertionConsumerService"))
    acs.set("Binding", BINDING_HTTP_POST)
    acs.set("Location", str(config["sp_assertion_url"]))
    acs.set("index", "0")
    acs.set("isDefault", "true")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def cached_metadata(rt: Runtime, connection: SsoConnection, env_url: str) -> bytes:
    sp_keys = metadata_keys(rt, connection.environment_id, rt.clock.now())
    cache: dict[str, tuple[tuple[object, tuple[str, ...], str], bytes]] = rt.caches.setdefault(  # type: ignore[assignment]
        "saml_sp_metadata", {}
    )
    slo_url = sp_slo_url(env_url, connection)
    version = (connection.update_time, tuple(k.kid for k in sp_keys), slo_url)
    hit = cache.get(connection.id)
    if hit is not None and hit[0] == version:
        return hit[1]
    document = build_metadata(connection, sp_keys, slo_url)
    with _lock:
        keep_recent(cache, connection.id, (version, document), MAX_DOCUMENTS)
    return document
