"""Failed client authentication at /oauth/token is rate limited per client and per address: in-process, and
shared by every instance through Redis when ENTRYWAY_REDIS_URL is set."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import redis
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.oidc_provider import auth_failures
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL
from tests.support.redis_urls import REDIS_URL


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


def instance(rt: Runtime, clock: FrozenClock, redis_url: str | None = None) -> Runtime:
    return Runtime.build(replace(rt.settings, redis_url=redis_url), clock=clock, engine=rt.engine)


def fresh_env_url() -> str:
    """An environment of its own: its ID is part of every counter key, so runs never share counters in Redis."""
    return f"http://sso-{secrets.token_hex(4)}.localhost:8000"


def served(runtime: Runtime, env_url: str = ENV_URL) -> tuple[DevSeed, str, TestClient]:
    """A seeded environment on `runtime`: its seed, the app client's secret, and an HTTP client to its app."""
    seed = seed_development(runtime, env_url, CALLBACK)
    assert seed.plain_secret is not None
    return seed, seed.plain_secret, TestClient(create_app(runtime), base_url=seed.environment.url)


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
    seed, secret, http = served(instance(rt, frozen))
    assert client_credentials(http, seed.client_id, secret)[0] == 200
    exhaust_client(http, seed)
    status, headers, body = client_credentials(http, seed.client_id, secret)  # even the right secret
    assert status == 429 and body["error"] == "invalid_client"
    assert 0 < int(headers["retry-after"]) <= auth_failures.WINDOW_SECONDS
    assert headers["cache-control"] == "no-store"
    frozen.advance(seconds=auth_failures.WINDOW_SECONDS)
    assert client_credentials(http, seed.client_id, secret)[0] == 200


def test_an_address_is_throttled_across_client_ids(rt: Runtime, frozen: FrozenClock) -> None:
    seed, secret, http = served(instance(rt, frozen))
    for _ in range(auth_failures.ADDRESS_LIMIT):
        assert client_credentials(http, f"skc_{secrets.token_hex(8)}", "guess")[0] == 401
    assert client_credentials(http, seed.client_id, secret)[0] == 429


def test_other_failures_are_not_counted(rt: Runtime, frozen: FrozenClock) -> None:
    seed, secret, http = served(instance(rt, frozen))
    form = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": CALLBACK}
    for _ in range(auth_failures.CLIENT_LIMIT + 2):
        response = http.post("/oauth/token", data={**form, "client_id": seed.client_id, "client_secret": secret})
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert client_credentials(http, seed.client_id, secret)[0] == 200


def test_redis_shares_the_counters_between_instances(rt: Runtime, frozen: FrozenClock) -> None:
    seed, secret, one = served(instance(rt, frozen, REDIS_URL), fresh_env_url())
    url = seed.environment.url
    two = TestClient(create_app(instance(rt, frozen, REDIS_URL)), base_url=url)
    exhaust_client(one, seed)
    assert client_credentials(two, seed.client_id, secret)[0] == 429
    local_only = TestClient(create_app(instance(rt, frozen)), base_url=url)  # without Redis: counts for itself
    assert client_credentials(local_only, seed.client_id, secret)[0] == 200


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
def test_the_limit_holds_over_any_window(rt: Runtime, shared: bool) -> None:
    """Failures at the end of one clock-aligned 300 s span still count at the start of the next: fixed windows
    let a second round of guesses through there."""
    boundary = (int(datetime.now(UTC).timestamp()) // auth_failures.WINDOW_SECONDS + 1) * auth_failures.WINDOW_SECONDS
    clock = FrozenClock(datetime.fromtimestamp(boundary - 2, UTC))
    seed, secret, http = served(instance(rt, clock, REDIS_URL if shared else None), fresh_env_url())
    exhaust_client(http, seed)
    clock.advance(seconds=4)
    status, headers, _ = client_credentials(http, seed.client_id, secret)
    assert status == 429
    assert int(headers["retry-after"]) == auth_failures.WINDOW_SECONDS - 4


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
def test_a_client_is_let_in_when_its_oldest_counted_failure_leaves_the_window(rt: Runtime, shared: bool) -> None:
    clock = FrozenClock(datetime.now(UTC))
    start = clock.at
    seed, secret, http = served(instance(rt, clock, REDIS_URL if shared else None), fresh_env_url())

    def at(seconds: int) -> None:
        clock.at = start + timedelta(seconds=seconds)

    for second in (0, 10, 11, 12, 13, 14, 15, 16, 17, 18):  # ten failures
        at(second)
        assert client_credentials(http, seed.client_id, "ews_wrong")[0] == 401
    status, headers, _ = client_credentials(http, seed.client_id, secret)
    assert status == 429 and int(headers["retry-after"]) == 300 - 18  # until the first failure is 300 s old
    at(299)
    status, headers, _ = client_credentials(http, seed.client_id, secret)
    assert status == 429 and int(headers["retry-after"]) == 1
    at(300)  # nine failures left in the window
    assert client_credentials(http, seed.client_id, secret)[0] == 200
    # A success resets nothing: one more failure makes ten again, counted until the one at 10 s is 300 s old.
    assert client_credentials(http, seed.client_id, "ews_wrong")[0] == 401
    status, headers, _ = client_credentials(http, seed.client_id, secret)
    assert status == 429 and int(headers["retry-after"]) == 10


def test_each_key_keeps_only_its_last_failures() -> None:
    counters = auth_failures.LocalCounters()
    for n in range(50):
        counters.record("k", auth_failures.CLIENT_LIMIT, 1000.0 + n)
    assert list(counters._times["k"]) == [1000.0 + n for n in range(40, 50)]
    assert counters.wait("k", auth_failures.CLIENT_LIMIT, 1049.0) == 1040 + auth_failures.WINDOW_SECONDS - 1049


def test_a_full_table_drops_expired_keys_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_failures, "MAX_LOCAL_KEYS", 3)
    counters = auth_failures.LocalCounters()
    counters.record("old", 1, 0.0)
    counters.record("recent-1", 1, 500.0)
    counters.record("recent-2", 1, 500.0)
    counters.record("new", 1, 501.0)  # full: "old" (501 s ago) has left the window and goes
    assert set(counters._times) == {"recent-1", "recent-2", "new"}
    assert counters.wait("recent-1", 1, 501.0) == 299.0


def test_redis_keeps_the_last_failures_for_one_window() -> None:
    counters = auth_failures.RedisCounters(REDIS_URL)
    key = f"entryway:authfail:test:{secrets.token_hex(8)}"
    for n in range(15):
        counters.record(key, 10, 1000.0 + n)
    server = redis.Redis.from_url(REDIS_URL)
    try:
        scored = cast(list[tuple[bytes, float]], server.zrange(key, 0, -1, withscores=True))
        assert [score for _member, score in scored] == [1000.0 + n for n in range(5, 15)]
        assert 0 < server.ttl(key) <= auth_failures.WINDOW_SECONDS
        assert counters.wait(key, 10, 1014.0) == 1005 + auth_failures.WINDOW_SECONDS - 1014
    finally:
        server.delete(key)
