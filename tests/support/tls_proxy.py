"""A TLS-terminating reverse proxy on a loopback port, as an operator puts in front of Entryway (docs/deployment.md):
it serves https with a certificate for the names given, and forwards plain HTTP to the server with the browser's
host in X-Forwarded-Host, `https` in X-Forwarded-Proto and the client's address in X-Forwarded-For — believed by
Entryway only because the proxy's address is in ENTRYWAY_TRUSTED_PROXIES.

The certificate is self-signed (the browser is told to accept it); the names reach the proxy through Chromium's
--host-resolver-rules, so the Host header the browser sends is the real one (`sso.acme.test:<port>`); the proxy
drops the port, as a proxy on 443 would have none.
"""

from __future__ import annotations

import datetime
import http.client
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.certificates import self_signed
from tests.support.server import free_port, serving_in_thread

# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, never forwarded.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
_FORWARDED = {"x-forwarded-host", "x-forwarded-proto", "x-forwarded-for"}


def self_signed_files(names: list[str], directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = self_signed(
        key, names[0], now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1), dns_names=names
    )
    cert_path, key_path = directory / "proxy.pem", directory / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def tls_proxy(upstream_port: int, names: list[str], directory: Path) -> Iterator[int]:
    """Serve https for `names` on a loopback port (yielded) and pass every request to 127.0.0.1:upstream_port."""
    cert_path, key_path = self_signed_files(names, directory)
    port = free_port()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            host = (self.headers.get("host") or "").rsplit(":", 1)[0].lower()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | _FORWARDED}
            # Overwritten, never passed on: a client cannot choose what the proxy vouches for.
            headers.update({"X-Forwarded-Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)

    class TlsServer(ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address):  # type: ignore[no-untyped-def]
            # The handshake runs in the connection's own thread: a client that never finishes one (a browser's
            # speculative preconnect) cannot stall the accept loop.
            try:
                request = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                super().finish_request(request, client_address)
            finally:
                request.close()

        def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
            pass  # a browser closing a connection it no longer needs is not the test's failure

    with serving_in_thread(TlsServer(("127.0.0.1", port), Handler)):
        yield port
