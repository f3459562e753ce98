"""Encrypting a response's assertion the way IdPs do (XML Encryption through python-xmlsec), for tests.

`key_transport` and `content` pick the algorithms (including ones Entryway must refuse); the EncryptedKey goes
inside the EncryptedData's KeyInfo, as OneLogin and pysaml2 send it.
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from tests.support.saml_builder import SAML, saml

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
    return response
