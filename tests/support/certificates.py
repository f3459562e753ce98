"""Self-signed X.509 certificates for tests: an IdP's signing certificate, or a TLS server's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
) -> x509.Certificate:
    """A certificate for `key` issued by itself; with `dns_names`, a subjectAltName naming them (for TLS)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if dns_names:
        names = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(names, critical=False)
    return builder.sign(key, hashes.SHA256())
