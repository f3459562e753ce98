"""Test doubles for the network boundary only: an RSA key that signs tokens like Entryway does, and an
httpx.MockTransport standing in for the server. The SDK's own code runs unchanged."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ENV_URL = "https://sso.example.test"
CLIENT_ID = "skc_123"
SECRET = "ews_secret"


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        data = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ENV_URL, "aud": [CLIENT_ID], "sub": "conn_1;jane", "iat": now, "nbf": now, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class FakeServer:
    """Answers by path with a handler; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.published: list[SigningKey] = []

    def route(self, method: str, path: str, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes[(method, path)] = handler

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/keys":
            return httpx.Response(200, json={"keys": [k.jwk() for k in self.published]})
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"code": 5, "message": "no route in the fake"})
        return handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def sync_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


def token_endpoint(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "mgmt-token", "token_type": "Bearer", "expires_in": 86399})
