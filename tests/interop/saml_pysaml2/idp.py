"""pysaml2's IdP (saml2.server.Server, signing through Debian's xmlsec1) behind a tiny HTTP front on a loopback
port: an independent SAML implementation Entryway must interoperate with.

It reads Entryway's SP metadata (fetched over HTTP), publishes its own IdP metadata (which Entryway imports),
answers AuthnRequests on the HTTP-Redirect binding with a signed Response in an auto-posting HTML form, and
can send an unsolicited (IdP-initiated) Response.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from entryway.keys.material import certificate_pem, generate_rsa_key, private_key_pem, self_signed_certificate

XMLSEC1 = "/usr/bin/xmlsec1"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class Pysaml2Idp:
    base_url: str
    server: Server
    identity: dict[str, list[str]]
    email: str
    sha1: bool = False  # sign answers to AuthnRequests with pysaml2's SHA-1 default

    @property
    def entity_id(self) -> str:
        return self.base_url + "/metadata"

    def reload_sp_metadata(self, path: Path, sp_metadata: str) -> None:
        """Read the SP metadata again, as an IdP that refreshes it does (it replaces the copy from `path`)."""
        path.write_text(sp_metadata)
        self.server.metadata.load("local", str(path))

    def metadata(self) -> str:
        return create_metadata_string(None, config=self.server.config, valid=24).decode()

    def respond(
        self, *, in_response_to: str | None, destination: str, sp_entity_id: str, relay_state: str, sha1: bool = False
    ) -> str:
        """The HTML page pysaml2's HTTP-POST binding produces, carrying the signed Response.

        pysaml2 signs with RSA-SHA1 unless told otherwise; the tests ask for SHA-256 except when they check
        that SHA-1 is refused.
        """
        response = self.server.create_authn_response(
            self.identity,
            in_response_to,
            destination,
            sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.email),
            sign_assertion=True,
            sign_response=True,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
        )
        info = self.server.apply_binding(BINDING_HTTP_POST, str(response), destination, relay_state, response=True)
        return str(info["data"])

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metadata":
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
            return [self.metadata().encode()]
        if path == "/sso/redirect":
            params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            try:
                # With want_authn_requests_signed, pysaml2 checks the query signature against the SP metadata.
                request = self.server.parse_authn_request(
                    params["SAMLRequest"],
                    BINDING_HTTP_REDIRECT,
                    relay_state=params.get("RelayState"),
                    sigalg=params.get("SigAlg"),
                    signature=params.get("Signature"),
                )
            except Exception as exc:  # pysaml2 raises assorted exception types for a refused request
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [f"refused: {type(exc).__name__}: {exc}".encode()]
            message = request.message
            page = self.respond(
                sha1=self.sha1,
                in_response_to=message.id,
                destination=message.assertion_consumer_service_url,
                sp_entity_id=message.issuer.text,
                relay_state=params.get("RelayState", ""),
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [page.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of an auto-posting HTML form, as a browser would submit it."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page[:500]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}


@contextmanager
def running_idp(
    tmp: Path, sp_metadata: str, identity: dict[str, list[str]], email: str, *, want_signed_requests: bool = False
) -> Iterator[Pysaml2Idp]:
    # pysaml2 logs whole SAML messages at DEBUG; the suite's log scan rightly forbids SAML content in logs.
    logging.getLogger("saml2").setLevel(logging.WARNING)
    key = generate_rsa_key()
    (tmp / "idp.key").write_bytes(private_key_pem(key))
    (tmp / "idp.crt").write_text(certificate_pem(self_signed_certificate(key, "pysaml2 test IdP", years=1)))
    (tmp / "sp.xml").write_text(sp_metadata)
    httpd = make_server("127.0.0.1", 0, lambda e, s: idp.app(e, s), WSGIServer, _QuietHandler)
    base = f"http://127.0.0.1:{httpd.server_port}"
    config = IdPConfig()
    config.load(
        {
            "entityid": base + "/metadata",
            "service": {
                "idp": {
                    "name": "pysaml2 test IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (base + "/sso/redirect", BINDING_HTTP_REDIRECT),
                            (base + "/sso/post", BINDING_HTTP_POST),
                        ]
                    },
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": want_signed_requests,
                }
            },
            "key_file": str(tmp / "idp.key"),
            "cert_file": str(tmp / "idp.crt"),
            "metadata": {"local": [str(tmp / "sp.xml")]},
            "xmlsec_binary": XMLSEC1,
        }
    )
    idp = Pysaml2Idp(base, Server(config=config), identity, email)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
