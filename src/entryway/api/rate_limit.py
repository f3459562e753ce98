"""429 with Retry-After (CONTRACT §5): each API client of an environment gets a token bucket.

The limit is generous (an app's backend calling in a loop should not meet it, a runaway script should). With
ENTRYWAY_REDIS_URL set, the bucket lives in Redis and every instance behind the balancer draws from the same
one (an atomic script, timed by Redis's own clock so that instances' clocks do not matter); without Redis, or
while Redis does not answer, each process keeps its own bucket — the API keeps working, a client may then get
up to one budget per instance. A Runtime carries its limiter in rt.caches, so a test can set another.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from entryway.api.auth import authenticate
from entryway.model.errors import ApiError
from entryway.shared_redis import DOWN, SharedRedis
from entryway.web.requests import runtime

CACHE_KEY = "api.rate_limiter"
DEFAULT_PER_MINUTE = 600
DEFAULT_BURST = 100


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: float = DEFAULT_PER_MINUTE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, who: tuple[str, str]) -> float:
        """0 when the call may go ahead (and is counted); otherwise how long until it could."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(who) or _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[who] = bucket
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


class Limiter(Protocol):
    def wait_seconds(self, who: tuple[str, str]) -> float: ...


# KEYS[1] the bucket; ARGV: refill per second, burst. Returns the seconds to wait as a string (0: counted).
_BUCKET_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(stored[1]) or burst
local updated = tonumber(stored[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class RedisRateLimiter:
    """The same bucket in Redis, shared by every instance; a process-local bucket while Redis is unreachable."""

    def __init__(
        self,
        url: str,
        per_minute: float = DEFAULT_PER_MINUTE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._shared = SharedRedis(url, "the API rate limit", clock)
        self._script: Any = self._shared.client.register_script(_BUCKET_SCRIPT)
        self._fallback = RateLimiter(per_minute, burst, clock)

    def wait_seconds(self, who: tuple[str, str]) -> float:
        key = f"entryway:api-rate:{who[0]}:{who[1]}"
        answer = self._shared.run(lambda _redis: self._script(keys=[key], args=[self.rate, self.burst]))
        if answer is DOWN:
            return self._fallback.wait_seconds(who)
        return float(answer)


def limiter_of(request: Request) -> Limiter:
    rt = runtime(request)
    limiter = rt.caches.get(CACHE_KEY)
    if limiter is None:
        url = rt.settings.redis_url
        limiter = RedisRateLimiter(url) if url else RateLimiter()
        rt.caches[CACHE_KEY] = limiter
    return limiter  # type: ignore[return-value]


def rate_limit(request: Request) -> None:
    """A router dependency. Unauthenticated calls are left to the route, which answers 401."""
    try:
        caller = authenticate(request)
    except ApiError:
        return
    wait = limiter_of(request).wait_seconds((caller.environment.id, caller.client.id))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"Too many requests from client {caller.client.id}: retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
