"""Encrypting a response's assertion the way IdPs do (XML Encryption through python-xmlsec), for tests.

`key_transport` and `content` pick the algorithms (including ones Entryway must refuse); the EncryptedKey goes
inside the EncryptedData's KeyInfo, as OneLogin and pysaml2 send it, or (`key_beside=True`) beside it with a
RetrievalMethod pointing at it, as Okta sends it.
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from tests.support.saml_builder import DS, SAML, saml

XENC = "http://www.w3.org/2001/04/xmlenc#"

CONTENT = {
    "aes256-gcm": (xmlsec.constants.TransformAes256Gcm, 256),
    "aes128-gcm": (xmlsec.constants.TransformAes128Gcm, 128),
    "aes256-cbc": (xmlsec.constants.TransformAes256Cbc, 256),
    "aes128-cbc": (xmlsec.constants.TransformAes128Cbc, 128),
}
KEY_TRANSPORT = {"rsa-oaep-mgf1p": xmlsec.constants.TransformRsaOaep, "rsa-1_5": xmlsec.constants.TransformRsaPkcs1}


def encrypt_assertion(
    response: etree._Element,
    recipient_certificate_pem: str,
    *,
    content: str = "aes256-gcm",
    key_transport: str = "rsa-oaep-mgf1p",
    key_beside: bool = False,
) -> etree._Element:
    """The response with its Assertion replaced by a saml:EncryptedAssertion for the recipient's certificate."""
    assertion = response.find(saml("Assertion"))
    assert assertion is not None
    transform, bits = CONTENT[content]
    template = xmlsec.template.encrypted_data_create(
        assertion, transform, type=xmlsec.constants.TypeEncElement, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, KEY_TRANSPORT[key_transport])
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(
        xmlsec.Key.from_memory(recipient_certificate_pem.encode(), xmlsec.constants.KeyDataFormatCertPem, None)
    )
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits, xmlsec.constants.KeyDataTypeSession)
    wrapper = etree.Element(saml("EncryptedAssertion"), nsmap={"saml": SAML})
    assertion.addprevious(wrapper)
    wrapper.append(assertion)  # encrypt_xml replaces the assertion in place, inside the wrapper
    context.encrypt_xml(template, assertion)
    # Re-parsed, so the tree is lxml's own again after xmlsec rewrote it in C.
    response = etree.fromstring(etree.tostring(response))
    if key_beside:
        _move_key_beside(response)
    return response


def _move_key_beside(response: etree._Element) -> None:
    wrapper = response.find(saml("EncryptedAssertion"))
    assert wrapper is not None
    key_info = wrapper.find(f"{{{XENC}}}EncryptedData/{{{DS}}}KeyInfo")
    assert key_info is not None
    encrypted_key = key_info.find(f"{{{XENC}}}EncryptedKey")
    assert encrypted_key is not None
    encrypted_key.set("Id", "_ek1")
    key_info.remove(encrypted_key)
    method = etree.SubElement(key_info, f"{{{DS}}}RetrievalMethod")
    method.set("Type", XENC + "EncryptedKey")
    method.set("URI", "#_ek1")
    wrapper.append(encrypted_key)
