"""Generating key pairs and certificates, and turning them into JWKs and PEM (all through `cryptography`)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509.oid import NameOID


def generate_rsa_key(bits: int = 2048) -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_key_pem(key: RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key_pem(pem: bytes, *, checked_when_made: bool = False) -> RSAPrivateKey:
    """`checked_when_made`: the key was made by this code and has not left its seal since, so OpenSSL's RSA
    consistency check, about 30 ms a key, can be skipped (cryptography's unsafe_skip_rsa_key_validation, safe
    only for a key known to be valid)."""
    key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=checked_when_made)
    if not isinstance(key, RSAPrivateKey):
        raise TypeError("only RSA private keys are supported")
    return key


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: RSAPublicKey, kid: str) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }


def self_signed_certificate(key: RSAPrivateKey, common_name: str, years: int = 10) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def certificate_body(pem: str) -> str:
    """The base64 body of a PEM certificate, as SAML metadata carries it in <ds:X509Certificate>."""
    lines = [ln.strip() for ln in pem.strip().splitlines() if ln.strip() and "-----" not in ln]
    return "".join(lines)


def load_certificate(text: str) -> x509.Certificate:
    """Load a certificate from PEM or from a bare base64 body (as pasted from metadata)."""
    text = text.strip()
    if "-----BEGIN" in text:
        return x509.load_pem_x509_certificate(text.encode())
    der = base64.b64decode("".join(text.split()), validate=True)
    return x509.load_der_x509_certificate(der)


def certificate_fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
