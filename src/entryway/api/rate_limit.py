"""429 with Retry-After (CONTRACT §5): each API client of an environment gets a token bucket per process.

The limit is generous (an app's backend calling in a loop should not meet it, a runaway script should), and
counted per process: with several instances behind a balancer a client may get up to that many times as much.
A Runtime carries its own limiter in rt.caches, so a test (or an operator's code) can set another.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from entryway.api.auth import authenticate
from entryway.model.errors import ApiError
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


def limiter_of(request: Request) -> RateLimiter:
    caches = runtime(request).caches
    limiter = caches.get(CACHE_KEY)
    if not isinstance(limiter, RateLimiter):
        limiter = RateLimiter()
        caches[CACHE_KEY] = limiter
    return limiter


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
