"""XML-DSig verification of a SAML Response or Assertion (DESIGN §4 SAML 2-4), through signxml.

The signature must be enveloped in the element it signs: one SignedInfo, one Reference whose URI is "#" plus
that element's ID, transforms limited to enveloped-signature and exclusive c14n, RSA or ECDSA with SHA-256 or
stronger (SHA-1 only when the connection explicitly allows it). The key comes only from the connection's
configured certificates, never from the KeyInfo the response carries. The caller gets back the node signxml
verified (re-parsed from the canonical bytes that were digested) and reads nothing else.
"""

from __future__ import annotations

import logging

from cryptography import x509
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature, SignXMLException

from entryway.connectors.saml.certificates import fingerprints
from entryway.connectors.saml.namespaces import ds
from entryway.connectors.saml.parsing import parser
from entryway.model.errors import LoginError

log = logging.getLogger("entryway.saml")

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = {
    CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
    CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS.value,
}
ALLOWED_TRANSFORMS = EXC_C14N | {ENVELOPED}

_STRONG_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_STRONG_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
_SHA1_METHODS = frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1})


def _refused(reason: str, certificates: list[x509.Certificate], **extra: object) -> LoginError:
    return LoginError(
        "signature_validation_failed",
        "The SAML response is not signed by a certificate of this connection",
        {
            "wanted": "a valid signature by one of the connection's certificates",
            "got": reason,
            "certificate_sha256": fingerprints(certificates),
            **extra,
        },
    )


def _invalid(message: str, wanted: str, got: str) -> LoginError:
    return LoginError.wanted_got("invalid_saml_response", message, wanted, got)


def check_signature_shape(element: etree._Element, *, allow_sha1: bool) -> None:
    """The structural rules signxml leaves to its caller, checked before any cryptography runs."""
    signatures = [child for child in element if child.tag == ds("Signature")]
    if len(signatures) != 1:
        raise _invalid("The signed element must carry exactly one signature", "1 Signature", str(len(signatures)))
    signature = signatures[0]
    signed_info = signature.findall(ds("SignedInfo"))
    if len(signed_info) != 1:
        raise _invalid("A signature must have exactly one SignedInfo", "1 SignedInfo", str(len(signed_info)))
    references = signed_info[0].findall(ds("Reference"))
    if len(references) != 1:
        raise _invalid("A signature must have exactly one Reference", "1 Reference", str(len(references)))
    element_id = element.get("ID")
    if not element_id or references[0].get("URI") != "#" + element_id:
        raise _invalid(
            "The signature does not reference the element it is enveloped in",
            "Reference URI = #<ID of the signed element>",
            "another URI" if element_id else "an element without an ID",
        )
    c14n = signed_info[0].find(ds("CanonicalizationMethod"))
    if c14n is None or c14n.get("Algorithm") not in EXC_C14N:
        raise _invalid(
            "The signature uses a canonicalization that is not allowed",
            "exclusive c14n",
            str(c14n.get("Algorithm")) if c14n is not None else "none",
        )
    transforms = references[0].findall(f"{ds('Transforms')}/{ds('Transform')}")
    algorithms = [t.get("Algorithm") for t in transforms]
    if ENVELOPED not in algorithms or any(a not in ALLOWED_TRANSFORMS for a in algorithms):
        raise _invalid(
            "The signature uses transforms that are not allowed",
            "enveloped-signature and exclusive c14n only",
            ", ".join(str(a) for a in algorithms) or "none",
        )
    method = signed_info[0].find(ds("SignatureMethod"))
    if method is not None and "hmac" in (method.get("Algorithm") or "").lower():
        # A MAC keyed with anything Entryway holds (the IdP's public certificate) could be made by anyone.
        raise LoginError.wanted_got(
            "signature_validation_failed",
            "HMAC signatures are never accepted: the IdP must sign with its private key (RSA or ECDSA)",
            "RSA or ECDSA with SHA-256 or stronger",
            "an HMAC signature",
        )
    if method is not None and method.get("Algorithm") in {m.value for m in _SHA1_METHODS}:
        if not allow_sha1:
            raise LoginError.wanted_got(
                "signature_validation_failed",
                "The IdP signs with SHA-1, which this connection does not allow: switch the IdP to SHA-256",
                "RSA or ECDSA with SHA-256 or stronger",
                "SHA-1",
            )
        log.warning("accepting a SHA-1 SAML signature: the connection allows SHA-1 explicitly")


def _configuration(allow_sha1: bool, now: object) -> SignatureConfiguration:
    methods = _STRONG_METHODS | (_SHA1_METHODS if allow_sha1 else frozenset())
    digests = _STRONG_DIGESTS | ({DigestAlgorithm.SHA1} if allow_sha1 else frozenset())
    return SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=methods,
        digest_algorithms=digests,
        # KeyInfo plays no part: the key is the configured certificate's, so a KeyValue there is irrelevant.
        ignore_ambiguous_key_info=True,
        verification_time=now,  # type: ignore[arg-type]
    )


def verify_enveloped(
    element: etree._Element, certificates: list[x509.Certificate], *, allow_sha1: bool, now: object
) -> etree._Element:
    """Verify the signature enveloped in `element`; return the verified copy of `element` (signature removed)."""
    check_signature_shape(element, allow_sha1=allow_sha1)
    config = _configuration(allow_sha1, now)
    failure = "the signature does not verify with any configured certificate"
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(element, x509_cert=certificate, parser=parser(), expect_config=config)
        except InvalidDigest as exc:
            # SignedInfo verified with this key, so the signer is trusted but the content changed afterwards.
            raise _refused("the signed content was changed after signing (digest mismatch)", certificates) from exc
        except InvalidCertificate:
            failure = "a configured certificate is expired or not yet valid"
            continue
        except InvalidSignature:
            continue
        except (SignXMLException, ValueError, etree.LxmlError) as exc:
            reason = f"the signature cannot be processed: {str(exc)[:200]}"
            raise _refused(reason, certificates) from exc
        except Exception as exc:  # a malformed signature must be a refusal, never a server error
            reason = f"the signature cannot be processed ({type(exc).__name__})"
            raise _refused(reason, certificates) from exc
        verified = result.signed_xml  # type: ignore[union-attr]
        if verified is None or verified.tag != element.tag or verified.get("ID") != element.get("ID"):
            raise _refused("the signature covers another element than the one it is enveloped in", certificates)
        return verified
    raise _refused(failure, certificates)
