"""pysaml2's IdP (saml2.server.Server, signing through Debian's xmlsec1) behind a tiny HTTP front on a loopback
port: an independent SAML implementation Entryway must interoperate with.

It reads Entryway's SP metadata (fetched over HTTP), publishes its own IdP metadata (which Entryway imports),
answers AuthnRequests on the HTTP-Redirect binding with a signed Response in an auto-posting HTML form, and
can send an unsolicited (IdP-initiated) Response. Single logout: it answers Entryway's LogoutRequests (checking
their signature against the SP metadata) with a signed LogoutResponse, and starts logouts of its own.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import error_status_factory
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.samlp import STATUS_PARTIAL_LOGOUT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from entryway.keys.material import certificate_pem, generate_rsa_key, private_key_pem, self_signed_certificate
from tests.support.server import serving_in_thread

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
    slo_bindings: tuple[str, ...] = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
    logout_status: str | None = None  # None: answer LogoutRequests with Success
    logout_requests: list[Any] = field(default_factory=list)  # what pysaml2 read from Entryway's LogoutRequests
    logout_responses: list[Any] = field(default_factory=list)  # Entryway's answers to pysaml2's LogoutRequests

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

    def start_logout(
        self, sp_slo_url: str, sp_entity_id: str, session_index: str | None, binding: str, relay_state: str = ""
    ) -> dict[str, Any]:
        """An IdP-initiated LogoutRequest for the test user, signed (query signature or enveloped XML)."""
        _, request = self.server.create_logout_request(
            sp_slo_url,
            sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.email),
            session_indexes=[session_index] if session_index else None,
            sign=binding == BINDING_HTTP_POST,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return dict(
            self.server.apply_binding(
                binding, str(request), sp_slo_url, relay_state, response=False, sign=True, sigalg=SIG_RSA_SHA256
            )
        )

    def _single_logout(self, environ: dict[str, Any], start_response: Any, binding: str) -> list[bytes]:
        if binding == BINDING_HTTP_POST:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            source = environ["wsgi.input"].read(length).decode()
        else:
            source = environ.get("QUERY_STRING", "")
        params = {k: v[0] for k, v in parse_qs(source).items()}
        try:
            if "SAMLResponse" in params:
                answer = self.server.parse_logout_request_response(params["SAMLResponse"], binding)
                self.logout_responses.append(answer)
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"logged out at the SP"]
            # With want_authn_requests_signed, pysaml2 checks the request's signature against the SP metadata.
            request = self.server.parse_logout_request(
                params["SAMLRequest"],
                binding,
                relay_state=params.get("RelayState"),
                sigalg=params.get("SigAlg"),
                signature=params.get("Signature"),
            )
        except Exception as exc:  # pysaml2 raises assorted exception types for a refused message
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"refused: {type(exc).__name__}: {exc}".encode()]
        self.logout_requests.append(request.message)
        status = None
        if self.logout_status is not None:
            status = error_status_factory((STATUS_PARTIAL_LOGOUT, self.logout_status))
        response = self.server.create_logout_response(
            request.message,
            [binding],
            status=status,
            sign=binding == BINDING_HTTP_POST,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        destination = self.server.response_args(request.message, [binding])["destination"]
        info = self.server.apply_binding(
            binding,
            str(response),
            destination,
            params.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        if binding == BINDING_HTTP_POST:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [str(info["data"]).encode()]
        start_response("302 Found", list(info["headers"]))
        return [b""]

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/slo/redirect" and BINDING_HTTP_REDIRECT in self.slo_bindings:
            return self._single_logout(environ, start_response, BINDING_HTTP_REDIRECT)
        if path == "/slo/post" and BINDING_HTTP_POST in self.slo_bindings:
            return self._single_logout(environ, start_response, BINDING_HTTP_POST)
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
    tmp: Path,
    sp_metadata: str,
    identity: dict[str, list[str]],
    email: str,
    *,
    want_signed_requests: bool = False,
    slo_bindings: tuple[str, ...] = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST),
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
                        ],
                        "single_logout_service": [
                            (base + ("/slo/redirect" if b == BINDING_HTTP_REDIRECT else "/slo/post"), b)
                            for b in slo_bindings
                        ],
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
    idp = Pysaml2Idp(base, Server(config=config), identity, email, slo_bindings=slo_bindings)
    with serving_in_thread(httpd):
        yield idp
