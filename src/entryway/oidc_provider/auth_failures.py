"""Rate limiting failed authentication (the token endpoint's client secrets, the dashboard's sign-in), per
account and per address.

The limit holds over any WINDOW_SECONDS: a key is throttled while its `limit` most recent failures all fall in the
last WINDOW_SECONDS, and it is let in again when the oldest of them is that old. So each key keeps the times of its
last `limit` failures, no more. (Fixed windows, which this replaced, let up to twice the limit through around a
window's end: `limit` failures at its end, `limit` more at the next one's start.)

With ENTRYWAY_REDIS_URL set the failure times live in Redis, so every instance shares them; otherwise in this
process. While a key is over its limit the caller answers 429 without checking any secret, so guessing cannot go
on. Successful authentications are not counted and do not reset anything: a guesser cannot interleave a good
secret it does not have.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from entryway.runtime import Runtime
from entryway.shared_redis import DOWN, SharedRedis

WINDOW_SECONDS = 300
CLIENT_LIMIT = 10
ADDRESS_LIMIT = 30
MAX_LOCAL_KEYS = 100_000


@dataclass
class Throttled(Exception):
    retry_after: int

    def __post_init__(self) -> None:
        super().__init__(f"too many failed authentications; retry after {self.retry_after} s")


def _wait(recent: list[float], limit: int, now: float) -> float:
    """Seconds until fewer than `limit` of the failure times `recent` (any order) fall in the window; 0 when that
    is already so."""
    if len(recent) < limit:
        return 0.0
    oldest_counted = sorted(recent)[-limit]
    # Rounded to the clock's resolution (µs): float noise must not hold a key a tick past its window, nor add a second.
    return max(0.0, round(oldest_counted + WINDOW_SECONDS - now, 6))


class LocalCounters:
    """Failure times in this process: per key, the last `limit` of them."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, limit: int, now: float) -> float:
        with self._lock:
            found = self._times.get(key)
            recent = list(found) if found is not None else []
        return _wait(recent, limit, now)

    def record(self, key: str, limit: int, now: float) -> None:
        with self._lock:
            found = self._times.get(key)
            if found is None:
                if len(self._times) >= MAX_LOCAL_KEYS:
                    self._forget_expired(now)
                found = self._times[key] = deque(maxlen=limit)
            found.append(now)

    def _forget_expired(self, now: float) -> None:
        """Make room: keys whose newest failure left the window count for nothing. If every key is recent, all go:
        losing counts errs on the side of letting clients in, and memory stays bounded under a flood of keys."""
        expired = [key for key, times in self._times.items() if times[-1] <= now - WINDOW_SECONDS]
        for key in expired:
            del self._times[key]
        if len(self._times) >= MAX_LOCAL_KEYS:
            self._times.clear()


class RedisCounters:
    """Failure times in Redis, shared by every instance: per key a sorted set of the last `limit` failures, scored
    by time. While Redis cannot be reached they are kept in this process (limits then hold per instance), and
    those stay counted for their window once Redis is back."""

    def __init__(self, url: str) -> None:
        self._shared = SharedRedis(url, "failed authentication")
        self._fallback = LocalCounters()

    def wait(self, key: str, limit: int, now: float) -> float:
        local = self._fallback.wait(key, limit, now)
        scored = self._shared.run(lambda redis: redis.zrange(key, -limit, -1, withscores=True))
        if scored is DOWN:
            return local
        return max(_wait([score for _member, score in scored], limit, now), local)

    def record(self, key: str, limit: int, now: float) -> None:
        def add(redis: Any) -> None:
            with redis.pipeline() as pipe:  # MULTI/EXEC: the set never holds more than `limit` times
                pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
                pipe.zremrangebyrank(key, 0, -limit - 1)
                pipe.expire(key, WINDOW_SECONDS)
                pipe.execute()

        if self._shared.run(add) is DOWN:
            self._fallback.record(key, limit, now)


def _counters(rt: Runtime) -> LocalCounters | RedisCounters:
    found = rt.caches.get("auth_failure_counters")
    if found is None:
        url = rt.settings.redis_url
        found = RedisCounters(url) if url else LocalCounters()
        rt.caches["auth_failure_counters"] = found
    return found  # type: ignore[return-value]


def _keys(env_id: str, client_id: str | None, address: str | None) -> list[tuple[str, int]]:
    keys: list[tuple[str, int]] = []
    if client_id:
        keys.append((f"entryway:authfail:client:{env_id}:{client_id[:128]}", CLIENT_LIMIT))
    if address:
        keys.append((f"entryway:authfail:addr:{env_id}:{address[:64]}", ADDRESS_LIMIT))
    return keys


def check(rt: Runtime, env_id: str, client_id: str | None, address: str | None) -> None:
    """Raise Throttled while the client ID or the address has failed its limit's number of times in the last
    WINDOW_SECONDS; `retry_after` is when the oldest of those failures leaves the window."""
    counters = _counters(rt)
    now = rt.clock.now().timestamp()
    wait = max((counters.wait(key, limit, now) for key, limit in _keys(env_id, client_id, address)), default=0.0)
    if wait > 0:
        raise Throttled(max(1, math.ceil(wait)))


def record_failure(rt: Runtime, env_id: str, client_id: str | None, address: str | None) -> None:
    counters = _counters(rt)
    now = rt.clock.now().timestamp()
    for key, limit in _keys(env_id, client_id, address):
        counters.record(key, limit, now)
