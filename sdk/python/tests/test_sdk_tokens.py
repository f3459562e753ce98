"""Token validation: signature, issuer, audience, expiry, nonce, and the JWKS cache across key rotation."""

from __future__ import annotations

import time

import jwt
import pytest

from entryway_sdk import EntrywayClient, TokenValidationError
from entryway_sdk.keys import KeyCache
from sdk_fakes import CLIENT_ID, ENV_URL, SECRET, FakeServer, SigningKey, claims


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def key(server: FakeServer) -> SigningKey:
    signing = SigningKey("key-1")
    server.published.append(signing)
    return signing


@pytest.fixture
def client(server: FakeServer) -> EntrywayClient:
    return EntrywayClient(ENV_URL, CLIENT_ID, SECRET, http_client=server.sync_client())


def test_a_valid_token_gives_its_claims(client: EntrywayClient, key: SigningKey) -> None:
    token = key.sign(claims(email="jane@acme.com", nonce="n1"))
    assert client.validate_token(token, nonce="n1")["email"] == "jane@acme.com"
    assert client.validate_access_token(token)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"iss": "https://evil.test"}, "issued"),
        ({"aud": ["skc_other"]}, "meant"),
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
    ],
)
def test_bad_claims_are_refused(client: EntrywayClient, key: SigningKey, overrides: dict, message: str) -> None:
    token = key.sign(claims(**overrides))
    with pytest.raises(TokenValidationError, match=message):
        client.validate_token(token)
    assert not client.validate_access_token(token)


def test_a_nonce_mismatch_is_refused(client: EntrywayClient, key: SigningKey) -> None:
    with pytest.raises(TokenValidationError, match="nonce"):
        client.validate_token(key.sign(claims(nonce="n1")), nonce="n2")


def test_a_token_signed_by_an_unpublished_key_is_refused(client: EntrywayClient, key: SigningKey) -> None:
    impostor = SigningKey("key-1")  # same kid, other key
    with pytest.raises(TokenValidationError, match="not valid"):
        client.validate_token(impostor.sign(claims()))


def test_only_rs256_is_accepted(client: EntrywayClient, key: SigningKey) -> None:
    forged = jwt.encode(claims(), "secret-of-32-bytes-at-least-xxxxx", algorithm="HS256", headers={"kid": "key-1"})
    with pytest.raises(TokenValidationError, match="RS256"):
        client.validate_token(forged)
    with pytest.raises(TokenValidationError, match="JWT"):
        client.validate_token("not-a-token")


def test_the_keys_are_cached_and_refetched_once_for_a_new_kid(
    server: FakeServer, client: EntrywayClient, key: SigningKey
) -> None:
    client.validate_token(key.sign(claims()))
    client.validate_token(key.sign(claims()))
    assert server.paths().count("/keys") == 1
    rotated = SigningKey("key-2")
    server.published.append(rotated)
    time.sleep(1.05)  # past the refetch cool-down
    assert client.validate_token(rotated.sign(claims()))["sub"] == "conn_1;jane"
    assert server.paths().count("/keys") == 2
    client.validate_token(rotated.sign(claims()))
    client.validate_token(key.sign(claims()))  # the retired key is still published, and still cached
    assert server.paths().count("/keys") == 2


def test_an_unknown_kid_is_refused_after_one_refetch(
    server: FakeServer, client: EntrywayClient, key: SigningKey
) -> None:
    client.validate_token(key.sign(claims()))
    stranger = SigningKey("key-x")
    time.sleep(1.05)
    with pytest.raises(TokenValidationError, match="kid"):
        client.validate_token(stranger.sign(claims()))
    with pytest.raises(TokenValidationError, match="kid"):
        client.validate_token(stranger.sign(claims()))  # within the cool-down: no second fetch
    assert server.paths().count("/keys") == 2


def test_the_cache_cool_down() -> None:
    now = [100.0]
    cache = KeyCache(refetch_cooldown_seconds=5, clock=lambda: now[0])
    assert cache.should_fetch("a")
    cache.load({"keys": [SigningKey("a").jwk(), {"kty": "oct", "kid": "b"}, "junk"]})
    assert cache.get("a") is not None and cache.get("b") is None
    assert not cache.should_fetch("a")
    assert not cache.should_fetch("c")
    now[0] += 5
    assert cache.should_fetch("c")


def test_idp_initiated_login_claims(client: EntrywayClient, key: SigningKey) -> None:
    token = key.sign(
        claims(aud=None, sub=None, connection_id="conn_1", organization_id="org_1", login_hint="jane@acme.com")
    )
    got = client.get_idp_initiated_login_claims(token)
    assert (got.connection_id, got.organization_id, got.login_hint, got.relay_state) == (
        "conn_1",
        "org_1",
        "jane@acme.com",
        None,
    )
    with pytest.raises(TokenValidationError, match="connection_id"):
        client.get_idp_initiated_login_claims(key.sign(claims(organization_id="org_1")))
    with pytest.raises(TokenValidationError, match="expired"):
        client.get_idp_initiated_login_claims(
            key.sign(claims(exp=int(time.time()) - 100, connection_id="conn_1", organization_id="org_1"))
        )
