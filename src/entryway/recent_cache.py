"""The per-process caches that keep only their most recently used entries (certificates, SP metadata, IdP key
sets): with 100,000 organizations, a cache of every connection ever seen would grow a worker without bound."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def keep_recent(cache: dict[K, V], key: K, value: V, limit: int) -> None:
    """Store `value` as the most recent entry and drop the oldest beyond `limit`; the caller holds the cache's
    lock. (A dict keeps insertion order: re-inserting a key moves it last.)"""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > limit:
        del cache[next(iter(cache))]
