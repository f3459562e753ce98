"""The IdP certificates a connection trusts, parsed once per connection version (id + update_time)."""

from __future__ import annotations

import threading

from cryptography import x509

from entryway.keys.material import certificate_fingerprint, load_certificate
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime

_lock = threading.Lock()


def connection_certificates(rt: Runtime, connection: SsoConnection) -> list[x509.Certificate]:
    """Only these keys may sign a response for this connection; a KeyInfo in the response is never used."""
    cache: dict[str, tuple[object, list[x509.Certificate]]] = rt.caches.setdefault(  # type: ignore[assignment]
        "saml_idp_certificates", {}
    )
    hit = cache.get(connection.id)
    if hit is not None and hit[0] == connection.update_time:
        return hit[1]
    parsed: list[x509.Certificate] = []
    for text in connection.saml_config.get("idp_certificates") or []:
        try:
            parsed.append(load_certificate(str(text)))
        except ValueError:
            continue  # an unreadable entry is not trusted; the API rejects them, so this is old data
    if not parsed:
        raise LoginError.wanted_got(
            "signature_validation_failed",
            "The connection has no usable IdP certificate: add the IdP's signing certificate",
            "at least one IdP signing certificate",
            "none",
            connection_id=connection.id,
        )
    with _lock:
        cache[connection.id] = (connection.update_time, parsed)
    return parsed


def fingerprints(certificates: list[x509.Certificate]) -> list[str]:
    return [certificate_fingerprint(c) for c in certificates]
