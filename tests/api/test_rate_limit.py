"""429 with Retry-After: a token bucket per API client, refilled over time; other clients are unaffected."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from entryway.api.rate_limit import CACHE_KEY, RateLimiter, RedisRateLimiter
from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.bootstrap import DevSeed
from tests.api.conftest import client_with, token_for
from tests.support.redis_urls import CLOSED_REDIS_URL, REDIS_URL


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_empties_and_refills(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    ticks = Ticks()
    rt.caches[CACHE_KEY] = RateLimiter(per_minute=30, burst=2, clock=ticks)
    assert api.get("/api/v1/organizations").status_code == 200
    assert api.post("/api/v1/organizations", json={"display_name": "Acme"}).status_code == 201
    limited = api.get("/api/v1/organizations")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"  # one call every 2 s
    assert limited.json()["code"] == 8 and limited.json()["details"][0]["error_code"] == "RESOURCE_EXHAUSTED"
    refused = api.post("/api/v1/organizations", json={"display_name": "Globex"})
    assert refused.status_code == 429
    ticks.now += 2
    listed = api.get("/api/v1/organizations")
    assert listed.status_code == 200
    assert [o["display_name"] for o in listed.json()["organizations"]].count("Globex") == 0  # the 429 changed nothing


def test_each_client_has_its_own_bucket(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    rt.caches[CACHE_KEY] = RateLimiter(per_minute=1, burst=1, clock=Ticks())
    with rt.engine.begin() as conn:
        reader = credentials.create_api_client(rt, conn, seed.environment.id, "reader", ["organizations:read"])
    assert api.get("/api/v1/organizations").status_code == 200
    assert api.get("/api/v1/organizations").status_code == 429
    with client_with(rt, seed, token_for(rt, seed, ["organizations:read"], reader.id)) as other:
        assert other.get("/api/v1/organizations").status_code == 200


def test_unauthenticated_calls_are_401_not_counted(anonymous: TestClient, api: TestClient, rt: Runtime) -> None:
    rt.caches[CACHE_KEY] = RateLimiter(per_minute=1, burst=1, clock=Ticks())
    for _ in range(3):
        assert anonymous.get("/api/v1/organizations").status_code == 401
    assert api.get("/api/v1/organizations").status_code == 200


def test_the_default_limit_is_generous(api: TestClient) -> None:
    assert all(api.get("/api/v1/environment").status_code == 200 for _ in range(60))


def _instance(rt: Runtime, redis_url: str | None) -> Runtime:
    return Runtime.build(replace(rt.settings, redis_url=redis_url), engine=rt.engine)


def test_with_redis_two_instances_share_one_budget(rt: Runtime, seed: DevSeed) -> None:
    first, second = _instance(rt, REDIS_URL), _instance(rt, REDIS_URL)
    token = token_for(rt, seed, ["*"])
    with client_with(first, seed, token) as one, client_with(second, seed, token) as two:
        assert one.get("/api/v1/organizations").status_code == 200
        assert isinstance(first.caches[CACHE_KEY], RedisRateLimiter)  # chosen because ENTRYWAY_REDIS_URL is set
        # Small buckets for the test (the key is the environment and client, fresh for each seed).
        for instance in (first, second):
            instance.caches[CACHE_KEY] = RedisRateLimiter(REDIS_URL, per_minute=6, burst=3)
        assert one.get("/api/v1/organizations").status_code == 200
        assert two.get("/api/v1/organizations").status_code == 200
        assert one.get("/api/v1/organizations").status_code == 200
        limited = two.get("/api/v1/organizations")  # the fourth call, on the other instance
        assert limited.status_code == 429 and limited.json()["details"][0]["error_code"] == "RESOURCE_EXHAUSTED"
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        assert one.get("/api/v1/organizations").status_code == 429
        # an instance without Redis keeps its own bucket
        with client_with(_instance(rt, None), seed, token) as alone:
            assert alone.get("/api/v1/organizations").status_code == 200


def test_with_redis_down_the_api_works_and_limits_per_process(rt: Runtime, seed: DevSeed) -> None:
    down = _instance(rt, CLOSED_REDIS_URL)
    down.caches[CACHE_KEY] = RedisRateLimiter(CLOSED_REDIS_URL, per_minute=6, burst=2)
    with client_with(down, seed, token_for(rt, seed, ["*"])) as api:
        assert api.get("/api/v1/organizations").status_code == 200
        assert api.post("/api/v1/organizations", json={"display_name": "Acme"}).status_code == 201
        assert api.get("/api/v1/organizations").status_code == 429
