"""Downstream interop: Python's Authlib (an independent OAuth 2.0 / OpenID Connect client) logs in to Entryway
from its discovery document alone: the authorization URL with PKCE (S256), state and nonce; the code exchange
with client_secret_post and with client_secret_basic; the ID token validated by Authlib's own CodeIDToken
rules (iss, aud, exp, nonce, at_hash) against the JWKS; and userinfo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.interop.oidc_node.test_openid_client_downstream import sign_in_at_simulator
from tests.support.server import free_port, running_server

CALLBACK = "http://127.0.0.1:9/authlib/callback"


@pytest.fixture
def live(rt: Runtime) -> Iterator[tuple[str, DevSeed]]:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with running_server(rt, port) as base:
        yield base, seed


def login(base: str, seed: DevSeed, auth_method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    metadata = httpx.get(f"{base}/.well-known/openid-configuration").json()
    assert auth_method in metadata["token_endpoint_auth_methods_supported"]
    client = OAuth2Client(
        seed.client_id,
        seed.plain_secret,
        scope="openid profile email",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, login_hint="jane@example.com"
    )
    callback_url = sign_in_at_simulator(base, url, "jane@example.com")
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=callback_url, state=state, code_verifier=verifier
    )
    keys = JsonWebKey.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    claims = JsonWebToken(metadata["id_token_signing_alg_values_supported"]).decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
        claims_params={"nonce": nonce, "client_id": seed.client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    userinfo = client.get(metadata["userinfo_endpoint"]).json()
    return dict(claims), userinfo


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
def test_authlib_logs_in_from_discovery_alone(live: tuple[str, DevSeed], auth_method: str) -> None:
    base, seed = live
    claims, userinfo = login(base, seed, auth_method)
    assert claims["iss"] == base and claims["email"] == "jane@example.com"
    assert claims["sub"].startswith(seed.connection_id + ";")
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == "jane@example.com"


def test_authlib_rejects_a_token_for_another_nonce(live: tuple[str, DevSeed]) -> None:
    from authlib.jose.errors import InvalidClaimError
    from joserfc.errors import InvalidClaimError as JoseInvalidClaimError  # what Authlib 1.9 raises

    base, seed = live
    metadata = httpx.get(f"{base}/.well-known/openid-configuration").json()
    client = OAuth2Client(seed.client_id, seed.plain_secret, scope="openid email", redirect_uri=CALLBACK)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], nonce="the-real-nonce", login_hint="jane@example.com"
    )
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=sign_in_at_simulator(base, url, "jane@example.com"),
        state=state,
    )
    keys = JsonWebKey.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    claims = JsonWebToken(["RS256"]).decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_params={"nonce": "another-nonce", "client_id": seed.client_id},
    )
    with pytest.raises((InvalidClaimError, JoseInvalidClaimError), match="nonce"):
        claims.validate()
