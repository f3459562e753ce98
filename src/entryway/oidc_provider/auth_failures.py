"""Rate limiting failed client authentication at the token endpoint, per client and per address.

Counters are fixed windows of WINDOW_SECONDS. With ENTRYWAY_REDIS_URL set they live in Redis, so every
instance shares them; otherwise in this process. While a client ID or an address is over its limit, the
token endpoint answers 429 without checking any secret, so guessing cannot go on. Successful
authentications are not counted and do not reset anything: a guesser cannot interleave a good secret it does
not have.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from entryway.runtime import Runtime

log = logging.getLogger("entryway.token")
WINDOW_SECONDS = 300
CLIENT_LIMIT = 10
ADDRESS_LIMIT = 30
MAX_LOCAL_KEYS = 100_000


@dataclass
class Throttled(Exception):
    retry_after: int

    def __post_init__(self) -> None:
        super().__init__(f"too many failed client authentications; retry after {self.retry_after} s")


class LocalCounters:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> int:
        return self._counts.get(key, 0)

    def incr(self, key: str) -> None:
        with self._lock:
            if len(self._counts) >= MAX_LOCAL_KEYS:
                self._counts.clear()  # old windows only; losing them errs on the side of letting clients in
            self._counts[key] = self._counts.get(key, 0) + 1


class RedisCounters:
    """Counters in Redis, shared by every instance. While Redis cannot be reached they are kept in this process
    (limits then hold per instance), and Redis is not asked again for RETRY_SECONDS: a Redis that hangs must
    not add its timeout to every token request."""

    RETRY_SECONDS = 5.0

    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._fallback = LocalCounters()
        self._down_until = 0.0

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        if self._usable():  # one warning per outage period, not one per request
            log.warning(
                "redis unavailable: counting failed client authentications in this process",
                extra={"reason": type(exc).__name__},
            )
        self._down_until = time.monotonic() + self.RETRY_SECONDS

    def get(self, key: str) -> int:
        if not self._usable():
            return self._fallback.get(key)
        try:
            value = self._redis.get(key)
        except Exception as exc:  # an unreachable Redis must not stop logins: count in this process instead
            self._failed(exc)
            return self._fallback.get(key)
        return max(int(value) if value is not None else 0, self._fallback.get(key))

    def incr(self, key: str) -> None:
        if not self._usable():
            self._fallback.incr(key)
            return
        try:
            with self._redis.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS * 2)
                pipe.execute()
        except Exception as exc:
            self._failed(exc)
            self._fallback.incr(key)


def _counters(rt: Runtime) -> LocalCounters | RedisCounters:
    found = rt.caches.get("auth_failure_counters")
    if found is None:
        url = rt.settings.redis_url
        found = RedisCounters(url) if url else LocalCounters()
        rt.caches["auth_failure_counters"] = found
    return found  # type: ignore[return-value]


def _keys(rt: Runtime, env_id: str, client_id: str | None, address: str | None) -> list[tuple[str, int]]:
    window = int(rt.clock.now().timestamp()) // WINDOW_SECONDS
    keys: list[tuple[str, int]] = []
    if client_id:
        keys.append((f"entryway:authfail:client:{env_id}:{client_id[:128]}:{window}", CLIENT_LIMIT))
    if address:
        keys.append((f"entryway:authfail:addr:{env_id}:{address[:64]}:{window}", ADDRESS_LIMIT))
    return keys


def check(rt: Runtime, env_id: str, client_id: str | None, address: str | None) -> None:
    """Raise Throttled while the client ID or the address has failed too often in this window."""
    counters = _counters(rt)
    for key, limit in _keys(rt, env_id, client_id, address):
        if counters.get(key) >= limit:
            now = int(rt.clock.now().timestamp())
            raise Throttled(WINDOW_SECONDS - now % WINDOW_SECONDS)


def record_failure(rt: Runtime, env_id: str, client_id: str | None, address: str | None) -> None:
    counters = _counters(rt)
    for key, _ in _keys(rt, env_id, client_id, address):
        counters.incr(key)
