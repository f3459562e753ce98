"""ID-token validation through whole logins: every claim check, the algorithm allow-list and key types, and
the JWKS refetch when the IdP rotates its keys."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from entryway.clock import FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import CLIENT_ID, Provider, ec_key, public_jwk
from tests.connectors.oidc.support import app_result, last_failure, login, make_connection


def refused(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> dict[str, object]:
    conn = make_connection(ort, seed, op)
    result = app_result(login(http, seed, op, conn.id))
    assert result["error"] == "invalid_id_token", result
    failure = last_failure(ort)
    assert failure["error_code"] == "invalid_id_token"
    return failure


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://evil.example"}, "another issuer"),
        ({"aud": "someone-else"}, "another client"),
        ({"aud": [CLIENT_ID, "other"]}, "authorized party"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "authorized party"),
        ({"azp": "other"}, "authorized party"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"nonce": "made-up"}, "nonce"),
        ({"exp": "tomorrow"}, "exp"),
        ({"sub": ""}, "subject"),
    ],
)
def test_claim_checks(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, claims: dict[str, object], message: str
) -> None:
    op.id_token_claims = claims
    assert message in refused(ort, seed, op, http)["message"]


@pytest.mark.parametrize("dropped", ["nonce", "exp", "iat", "iss", "aud"])
def test_required_claims(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, dropped: str) -> None:
    op.id_token_drop = (dropped,)
    refused(ort, seed, op, http)


def test_expiry_uses_entryways_clock_with_the_skew(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, frozen: FrozenClock
) -> None:
    conn = make_connection(ort, seed, op)
    frozen.advance(seconds=300 + 110)  # the token lives 300 s; 110 s past that is within the 120 s skew
    assert "code" in app_result(login(http, seed, op, conn.id))
    frozen.advance(seconds=20)
    assert app_result(login(http, seed, op, conn.id))["error"] == "invalid_id_token"


def test_alg_none_is_refused(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    op.sign_with = (None, "none")
    assert "algorithm" in refused(ort, seed, op, http)["message"]


def test_hmac_keyed_with_the_published_key_is_refused(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    # The classic confusion attack: the IdP's public key (here its DER bytes) used as an HMAC secret.
    public_der = op.rsa_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    op.sign_with = (public_der, "HS256")
    failure = refused(ort, seed, op, http)
    assert failure["diagnosis"]["got"] == "HS256"


def test_a_key_the_idp_does_not_publish_is_refused(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    op.sign_with = (ec_key(), "ES256")  # same kid as the published RSA key, but another key
    assert "key" in refused(ort, seed, op, http)["message"]


def test_a_signature_by_another_rsa_key_under_the_published_kid_is_refused(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    op.sign_with = (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")
    assert "signature" in refused(ort, seed, op, http)["message"]


def test_ec_keys_verify_es256_tokens(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    key = ec_key()
    op.published.append(public_jwk(key, "ec-1", "ES256"))
    op.sign_with = (key, "ES256")
    op.id_token_headers = {"kid": "ec-1"}
    conn = make_connection(ort, seed, op)
    assert "code" in app_result(login(http, seed, op, conn.id))


def test_an_algorithm_the_discovery_document_does_not_announce_is_refused(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.discovery_extra = {"id_token_signing_alg_values_supported": ["ES256"]}
    assert "announces" in refused(ort, seed, op, http)["message"]


def test_a_rotated_idp_key_is_fetched_once_the_refetch_interval_passed(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, frozen: FrozenClock
) -> None:
    conn = make_connection(ort, seed, op)
    assert "code" in app_result(login(http, seed, op, conn.id))
    jwks_fetches = op.requests.count(("GET", "/jwks"))
    # The IdP rotates: a new key under a new kid, published and signing at once.
    from cryptography.hazmat.primitives.asymmetric import rsa

    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    op.published = [public_jwk(new, "op-key-2", "RS256")]
    op.sign_with = (new, "RS256")
    op.id_token_headers = {"kid": "op-key-2"}
    # Right after a fetch, an unknown kid does not make Entryway hammer the IdP...
    assert app_result(login(http, seed, op, conn.id))["error"] == "invalid_id_token"
    assert op.requests.count(("GET", "/jwks")) == jwks_fetches
    # ...but once the short interval passed, the unknown kid triggers one refetch, and the login succeeds.
    frozen.advance(seconds=11)
    assert "code" in app_result(login(http, seed, op, conn.id))
    assert op.requests.count(("GET", "/jwks")) == jwks_fetches + 1
    assert "code" in app_result(login(http, seed, op, conn.id))
    assert op.requests.count(("GET", "/jwks")) == jwks_fetches + 1  # cached again


def test_the_entra_multi_tenant_issuer_placeholder_takes_the_token_tid(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    tenant_issuer = op.issuer + "/{tenantid}/v2.0"
    op.discovery_extra = {"issuer": tenant_issuer}
    op.id_token_claims = {"iss": op.issuer + "/tid-42/v2.0", "tid": "tid-42"}
    conn = make_connection(ort, seed, op, issuer=None, discovery_endpoint=f"{op.base}/.well-known/openid-configuration")
    assert "code" in app_result(login(http, seed, op, conn.id))
    op.id_token_claims = {"iss": op.issuer + "/tid-42/v2.0", "tid": "tid-43"}
    assert app_result(login(http, seed, op, conn.id))["error"] == "invalid_id_token"
