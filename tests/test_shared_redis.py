"""SharedRedis against the machine's real Redis, and against a port nothing listens on."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
import redis

from entryway.shared_redis import DOWN, RETRY_SECONDS, SharedRedis
from tests.support.redis_urls import CLOSED_REDIS_URL, REDIS_URL


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_reachable_redis_answers_the_operation() -> None:
    shared = SharedRedis(REDIS_URL, "a test")
    key = f"entryway:test:shared:{secrets.token_hex(8)}"
    try:
        assert shared.run(lambda client: client.set(key, "1", ex=60)) is True
        assert shared.run(lambda client: client.get(key)) == b"1"
    finally:
        redis.Redis.from_url(REDIS_URL).delete(key)


def test_an_unreachable_redis_is_down_then_left_alone_until_the_retry(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    shared = SharedRedis(CLOSED_REDIS_URL, "the widget count", clock)
    calls: list[float] = []

    def ping(client: Any) -> bool:
        calls.append(clock.now)
        return bool(client.ping())

    with caplog.at_level(logging.WARNING, logger="entryway.redis"):
        assert shared.run(ping) is DOWN
        clock.now += RETRY_SECONDS - 0.001
        assert shared.run(ping) is DOWN  # not asked: a hanging Redis must not cost every request its timeout
        assert calls == [1000.0]
        warnings = [r.getMessage() for r in caplog.records]
        assert warnings == ["redis unavailable: the widget count is counted in this process for the next 5 s"]
        assert caplog.records[0].reason == "ConnectionError"  # type: ignore[attr-defined]

        clock.now += 0.001
        assert shared.run(ping) is DOWN  # asked again once the retry time has come, and still down
        assert calls == [1000.0, 1000.0 + RETRY_SECONDS]
        assert len(caplog.records) == 2  # one line per outage period, not per request


def test_an_operation_that_fails_on_a_live_redis_counts_as_down() -> None:
    clock = Clock()
    shared = SharedRedis(REDIS_URL, "a test", clock)
    key = f"entryway:test:shared:{secrets.token_hex(8)}"
    try:
        assert shared.run(lambda client: client.set(key, "text")) is True
        assert shared.run(lambda client: client.incr(key)) is DOWN  # WRONGTYPE: not an integer
        assert shared.run(lambda client: client.get(key)) is DOWN  # within the retry period
        clock.now += RETRY_SECONDS
        assert shared.run(lambda client: client.get(key)) == b"text"
    finally:
        redis.Redis.from_url(REDIS_URL).delete(key)
