"""A small OpenID Provider on a loopback port, for the relying-party tests: discovery, JWKS, token and
userinfo endpoints that behave like an IdP's, with knobs to make each of them misbehave.

The authorization endpoint is not served: a test reads the authorization request Entryway redirected to and
calls `grant()` as the IdP's login page would, getting the code to send back to the redirect URI.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.server import serving_in_thread

CLIENT_ID = "rp-client-1"
CLIENT_SECRET = "rp-secret-Ωmega"  # not ASCII-safe on purpose: Basic auth must form-encode it


def public_jwk(key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg or "RS256"].to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig")
    if alg:
        jwk["alg"] = alg
    return jwk


@dataclass
class Grant:
    nonce: str | None
    redirect_uri: str
    code_challenge: str | None
    claims: dict[str, Any]


@dataclass
class Provider:
    base: str = ""
    issuer: str = ""
    rsa_key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "op-key-1"
    published: list[dict[str, Any]] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_auth: str = "post"  # post | basic: the method the client is registered with
    # knobs
    discovery_override: tuple[int, str, bytes] | None = None  # status, content type, body
    discovery_extra: dict[str, Any] = field(default_factory=dict)
    discovery_drop: tuple[str, ...] = ()
    delay: dict[str, float] = field(default_factory=dict)  # path -> seconds
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_drop: tuple[str, ...] = ()
    id_token_headers: dict[str, Any] = field(default_factory=dict)
    sign_with: Any = None  # (key, alg) instead of the published RSA key
    userinfo_status: int = 200
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    probe: Any = None  # called with each request's path as it arrives (to observe Entryway meanwhile)
    jwks_override: tuple[int, str, bytes] | None = None  # status, content type, body
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.published = [public_jwk(self.rsa_key, self.kid, "RS256")]

    def discovery(self) -> dict[str, Any]:
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "userinfo_endpoint": f"{self.base}/userinfo",
            "jwks_uri": f"{self.base}/jwks",
            "end_session_endpoint": f"{self.base}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            **self.discovery_extra,
        }
        for name in self.discovery_drop:
            doc.pop(name, None)
        return doc

    def grant(self, authorize_params: dict[str, str], **claims: Any) -> str:
        """What the IdP's login page does: remember the request, return the code it redirects with."""
        assert authorize_params["client_id"] == CLIENT_ID
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            authorize_params.get("nonce"),
            authorize_params["redirect_uri"],
            authorize_params.get("code_challenge"),
            {"sub": "00u-jane", "email": "jane@acme.test", "email_verified": True, **claims},
        )
        return code

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **grant.claims,
            **self.id_token_claims,
        }
        for name in self.id_token_drop:
            claims.pop(name, None)
        key, alg = self.sign_with or (self.rsa_key, "RS256")
        headers = {"kid": self.kid, **self.id_token_headers}
        if alg == "HS256":
            return hmac_jwt(claims, key, headers)
        return jwt.encode(claims, key, algorithm=alg, headers=headers)

    # --- the endpoints -------------------------------------------------------------------------------

    def client_authenticated(self, headers: Any, form: dict[str, str]) -> bool:
        if self.token_auth == "basic":
            value = headers.get("authorization", "")
            if not value.startswith("Basic "):
                return False
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            return unquote_plus(user) == CLIENT_ID and unquote_plus(password) == CLIENT_SECRET
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    def token(self, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if not self.client_authenticated(headers, form):
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant.code_challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access = secrets.token_urlsafe(16)
        self.access_tokens[access] = grant.claims
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant),
        }

    def userinfo(self, headers: Any) -> tuple[int, dict[str, Any]]:
        value = headers.get("authorization", "")
        claims = self.access_tokens.get(value.removeprefix("Bearer "))
        if claims is None:
            return 401, {"error": "invalid_token"}
        if self.userinfo_status != 200:
            return self.userinfo_status, {"error": "server_error"}
        return 200, {**claims, **self.userinfo_claims}


def _handler(op: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            # The client may have given up waiting (the slow-IdP timeout tests). Left to socketserver, the traceback
            # it prints is formatted with ast.parse, which on CPython 3.11 races another thread's ast.parse ("AST
            # constructor recursion depth mismatch", seen in CI in Entryway's head_revision).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def _json(self, status: int, doc: Any) -> None:
            self._send(status, json.dumps(doc).encode())

        def _route(self, method: str) -> None:
            path = urlsplit(self.path).path
            op.requests.append((method, path))
            if op.probe is not None:
                op.probe(path)
            time.sleep(op.delay.get(path, 0))
            if path == "/.well-known/openid-configuration":
                if op.discovery_override is not None:
                    status, content_type, body = op.discovery_override
                    return self._send(status, body, content_type)
                return self._json(200, op.discovery())
            if path == "/jwks":
                if op.jwks_override is not None:
                    return self._send(op.jwks_override[0], op.jwks_override[2], op.jwks_override[1])
                return self._json(200, {"keys": op.published})
            if path == "/token" and method == "POST":
                length = int(self.headers.get("content-length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                return self._json(*op.token(self.headers, form))
            if path == "/logout":
                # End the session, then go where the RP asked (OIDC RP-Initiated Logout §2), with its state.
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                op.logouts.append(params)
                target = params["post_logout_redirect_uri"] + "?" + urlencode({"state": params.get("state", "")})
                self.send_response(302)
                self.send_header("location", target)
                self.send_header("content-length", "0")
                self.end_headers()
                return None
            if path == "/userinfo":
                return self._json(*op.userinfo(self.headers))
            return self._send(404, b"<html>not found</html>", "text/html")

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


@contextmanager
def running_provider(**knobs: Any) -> Iterator[Provider]:
    op = Provider(**knobs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(op))
    op.base = f"http://127.0.0.1:{server.server_address[1]}"
    op.issuer = op.issuer or op.base
    with serving_in_thread(server):
        yield op


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_jwt(claims: dict[str, Any], secret: bytes, headers: dict[str, Any]) -> str:
    """An HS256 JWT built by hand: PyJWT (rightly) refuses to key HMAC with public-key material."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP256R1())
