"""Encrypted assertions (XML Encryption 1.1, through python-xmlsec: no hand-rolled XML-Enc).

Closed allow-lists, checked before any cryptography runs: content AES-GCM or AES-CBC (128/192/256), key
transport RSA-OAEP only (RSA PKCS#1 v1.5 is refused: it is the classic padding oracle). The EncryptedKey may
sit inside the EncryptedData's KeyInfo (OneLogin, pysaml2) or beside it, referenced by a RetrievalMethod (Okta).

Every decryption failure looks the same to the sender: one message, one code, so an attacker who sends
altered ciphertexts learns nothing from the answers (no oracle). The auth log's diagnosis says what failed.
The decrypted Assertion is serialized and parsed again with the strict parser, like any received message.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from lxml import etree

from entryway.connectors.saml.namespaces import saml
from entryway.connectors.saml.parsing import parse_xml
from entryway.keys.keyring import SigningKey
from entryway.model.errors import LoginError

if TYPE_CHECKING:
    import xmlsec

# xmlsec is imported on the first encrypted assertion, not with this module: its extension (libxmlsec1, libxml2
# and OpenSSL linked in) adds about 9 MB to every server worker's resident memory, and most connections never
# encrypt. Importing it initialises the library once per process (the import lock makes that thread-safe).

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
CONTENT_ALGORITHMS = frozenset(
    {XENC + "aes128-cbc", XENC + "aes192-cbc", XENC + "aes256-cbc"}
    | {XENC11 + "aes128-gcm", XENC11 + "aes192-gcm", XENC11 + "aes256-gcm"}
)
KEY_TRANSPORT_ALGORITHMS = frozenset({XENC + "rsa-oaep-mgf1p", XENC11 + "rsa-oaep"})
# What the SP metadata advertises, strongest first.
ADVERTISED = (
    XENC11 + "aes256-gcm",
    XENC11 + "aes128-gcm",
    XENC + "aes256-cbc",
    XENC + "aes128-cbc",
    XENC + "rsa-oaep-mgf1p",
)

_keys: dict[str, xmlsec.Key] = {}
_lock = threading.Lock()


def xenc(local: str) -> str:
    return f"{{{XENC}}}{local}"


def _refused(reason: str, **extra: object) -> LoginError:
    return LoginError(
        "invalid_saml_response",
        "The encrypted assertion could not be decrypted: check the SP encryption certificate at the IdP",
        {"wanted": "an assertion encrypted for this SP's certificate (RSA-OAEP, AES-GCM/CBC)", "got": reason, **extra},
    )


def _xmlsec_key(key: SigningKey) -> xmlsec.Key:
    """The SP private key in xmlsec's form, loaded once per key (parsing a PEM costs milliseconds)."""
    import xmlsec

    found = _keys.get(key.kid)
    if found is None:
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        found = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatPem, None)
        with _lock:
            _keys[key.kid] = found
    return found


def _check_algorithms(encrypted: etree._Element, data: etree._Element) -> None:
    method = data.find(xenc("EncryptionMethod"))
    content = method.get("Algorithm") if method is not None else None
    if content not in CONTENT_ALGORITHMS:
        raise _refused("a content encryption algorithm outside the allow-list", algorithm=content)
    keys = list(encrypted.iter(xenc("EncryptedKey")))
    if not keys:
        raise _refused("no EncryptedKey")
    for encrypted_key in keys:
        transport = encrypted_key.find(xenc("EncryptionMethod"))
        algorithm = transport.get("Algorithm") if transport is not None else None
        if algorithm not in KEY_TRANSPORT_ALGORITHMS:
            raise _refused("a key transport algorithm outside the allow-list (RSA-OAEP only)", algorithm=algorithm)


def _decrypt_with(encrypted: etree._Element, key: SigningKey) -> object:
    import xmlsec

    work = copy.deepcopy(encrypted)  # xmlsec rewrites the tree it decrypts; the caller's stays as received
    xmlsec.tree.add_ids(work, ["Id", "ID"])  # so a RetrievalMethod URI="#…" finds a sibling EncryptedKey
    manager = xmlsec.KeysManager()
    manager.add_key(_xmlsec_key(key))
    return xmlsec.EncryptionContext(manager).decrypt(work.find(xenc("EncryptedData")))


def decrypt_assertion(encrypted: etree._Element, keys: list[SigningKey]) -> etree._Element:
    """The Assertion inside a saml:EncryptedAssertion, decrypted with an SP key and parsed strictly.

    `keys` are tried in order (the signing key first): during an SP key rollover the IdP may have encrypted to
    the next key or, a little late, to the previous one. Every failure still gives the one answer.
    """
    datas = encrypted.findall(xenc("EncryptedData"))
    if len(datas) != 1:
        raise _refused(f"{len(datas)} EncryptedData elements")
    _check_algorithms(encrypted, datas[0])
    decrypted: object = None
    errors: list[str] = []
    for key in keys:
        try:
            decrypted = _decrypt_with(encrypted, key)
            break
        except Exception as exc:  # xmlsec.Error and friends: the same answer for every failure (no oracle)
            errors.append(type(exc).__name__)
    else:
        raise _refused("decryption failed", error=", ".join(errors) or "no SP key", keys_tried=len(keys))
    if not isinstance(decrypted, etree._Element) or decrypted.tag != saml("Assertion"):
        raise _refused("the decrypted content is not one saml:Assertion")
    try:
        return parse_xml(etree.tostring(decrypted), what="decrypted assertion")
    except LoginError as exc:
        raise _refused("the decrypted assertion is not acceptable XML", detail=exc.diagnosis.get("got")) from exc
