"""The IdP certificates a connection trusts, parsed once per distinct certificate list of a connection.

The cache is keyed by the certificate texts themselves rather than the connection's update_time: two
updates within one clock tick (a metadata refresh right after an import) must never leave an old key trusted.
It holds the MAX_CONNECTIONS most recently used connections (with 100,000 organizations an unbounded cache
would grow by every connection that ever logged in). A parse is cheap (10-15 µs a certificate), an entry is not:
with the objects cryptography and OpenSSL keep beside it, 256 entries grew a worker by about 1.7 MB (6.6 KB
each, measured by RSS after 1,500 logins over 100,000 organizations), for a hit rate near zero when logins are
spread over many organizations. So the cache only spares the parse to the connections logging in right now.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from cryptography import x509

from entryway.keys.material import certificate_fingerprint, load_certificate
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.recent_cache import keep_recent
from entryway.runtime import Runtime

_lock = threading.Lock()
MAX_CONNECTIONS = 32


def connection_certificates(rt: Runtime, connection: SsoConnection) -> list[x509.Certificate]:
    """Only these keys may sign a response for this connection; a KeyInfo in the response is never used."""
    cache: OrderedDict[str, tuple[object, list[x509.Certificate]]] = rt.caches.setdefault(  # type: ignore[assignment]
        "saml_idp_certificates", OrderedDict()
    )
    texts = tuple(str(t) for t in connection.saml_config.get("idp_certificates") or [])
    with _lock:
        hit = cache.get(connection.id)
        if hit is not None and hit[0] == texts:
            cache.move_to_end(connection.id)
            return hit[1]
    parsed: list[x509.Certificate] = []
    for text in texts:
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
        keep_recent(cache, connection.id, (texts, parsed), MAX_CONNECTIONS)
    return parsed


def fingerprints(certificates: list[x509.Certificate]) -> list[str]:
    return [certificate_fingerprint(c) for c in certificates]
