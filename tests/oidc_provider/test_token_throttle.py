"""Failed client authentication at /oauth/token is rate limited per client and per address: in-process, and
shared by every instance through Redis when ENTRYWAY_REDIS_URL is set."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.oidc_provider import auth_failures
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def frozen() -> FrozenClock:
    # the start of a window, so that a test's requests all fall in one
    start = int(datetime.now(UTC).timestamp()) // auth_failures.WINDOW_SECONDS * auth_failures.WINDOW_SECONDS
    return FrozenClock(datetime.fromtimestamp(start, UTC))


def instance(rt: Runtime, clock: FrozenClock, redis_url: str | None = None) -> Runtime:
    return Runtime.build(replace(rt.settings, redis_url=redis_url), clock=clock, engine=rt.engine)


def client_credentials(http: TestClient, client_id: str, secret: str) -> tuple[int, dict[str, str], dict[str, str]]:
    response = http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return response.status_code, dict(response.headers), response.json()


def exhaust_client(http: TestClient, seed: DevSeed) -> None:
    for _ in range(auth_failures.CLIENT_LIMIT):
        status, _, body = client_credentials(http, seed.client_id, "ews_wrong")
        assert status == 401 and body["error"] == "invalid_client"


def test_a_client_is_throttled_after_too_many_failures(rt: Runtime, frozen: FrozenClock) -> None:
    local = instance(rt, frozen)
    seed = seed_development(local, ENV_URL, CALLBACK)
    assert seed.plain_secret is not None
    http = TestClient(create_app(local), base_url=ENV_URL)
    assert client_credentials(http, seed.client_id, seed.plain_secret)[0] == 200
    exhaust_client(http, seed)
    status, headers, body = client_credentials(http, seed.client_id, seed.plain_secret)  # even the right secret
    assert status == 429 and body["error"] == "invalid_client"
    assert 0 < int(headers["retry-after"]) <= auth_failures.WINDOW_SECONDS
    assert headers["cache-control"] == "no-store"
    frozen.advance(seconds=auth_failures.WINDOW_SECONDS)
    assert client_credentials(http, seed.client_id, seed.plain_secret)[0] == 200


def test_an_address_is_throttled_across_client_ids(rt: Runtime, frozen: FrozenClock) -> None:
    local = instance(rt, frozen)
    seed = seed_development(local, ENV_URL, CALLBACK)
    assert seed.plain_secret is not None
    http = TestClient(create_app(local), base_url=ENV_URL)
    for _ in range(auth_failures.ADDRESS_LIMIT):
        assert client_credentials(http, f"skc_{secrets.token_hex(8)}", "guess")[0] == 401
    assert client_credentials(http, seed.client_id, seed.plain_secret)[0] == 429


def test_other_failures_are_not_counted(rt: Runtime, frozen: FrozenClock) -> None:
    local = instance(rt, frozen)
    seed = seed_development(local, ENV_URL, CALLBACK)
    assert seed.plain_secret is not None
    http = TestClient(create_app(local), base_url=ENV_URL)
    form = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": CALLBACK}
    for _ in range(auth_failures.CLIENT_LIMIT + 2):
        response = http.post(
            "/oauth/token", data={**form, "client_id": seed.client_id, "client_secret": seed.plain_secret}
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert client_credentials(http, seed.client_id, seed.plain_secret)[0] == 200


def test_redis_shares_the_counters_between_instances(rt: Runtime, frozen: FrozenClock) -> None:
    first = instance(rt, frozen, REDIS_URL)
    second = instance(rt, frozen, REDIS_URL)
    # A fresh environment per run: its ID is part of every counter key, so runs never share counters.
    seed = seed_development(first, f"http://sso-{secrets.token_hex(4)}.localhost:8000", CALLBACK)
    assert seed.plain_secret is not None
    url = seed.environment.url
    one = TestClient(create_app(first), base_url=url)
    two = TestClient(create_app(second), base_url=url)
    exhaust_client(one, seed)
    assert client_credentials(two, seed.client_id, seed.plain_secret)[0] == 429
    local_only = instance(rt, frozen)  # an instance without Redis counts for itself
    assert (
        client_credentials(TestClient(create_app(local_only), base_url=url), seed.client_id, seed.plain_secret)[0]
        == 200
    )
