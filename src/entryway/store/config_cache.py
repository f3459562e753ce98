"""One process-wide cache of configuration read on the login path (environments, clients and their secrets,
redirect URIs, organizations, domains, connections), invalidated by a generation counter in the database.

Every insert, update or delete of those tables bumps `config_generation` (database triggers, migration 0013),
whoever makes it: this process, another instance, the CLI, or SQL typed by an operator. So:

- in this process, a committed change clears the cache at once (an engine event sees the write statement);
- in every other process, the counter is read at most once per `check_seconds` (default 1 s) and a change
  clears the whole cache. A deactivated secret, a disabled connection or a removed redirect URI therefore
  stops working on every instance within that interval, and at once on the instance that made the change.

Entries are loaded by the caller's loader and kept up to `max_entries` (least recently used dropped first), so
100,000 organizations cost bounded memory. A load that raced with a clear is not stored (the epoch check), so a
row read before a change can never be cached after it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Delete, Engine, Insert, Update, event, select
from sqlalchemy.exc import SQLAlchemyError

from entryway.config import DEFAULT_CONFIG_CACHE_ENTRIES
from entryway.store.db import read_connection
from entryway.store.tables import config_generation

T = TypeVar("T")

# The tables whose rows the cache holds; a write to any of them invalidates it.
WATCHED_TABLES = frozenset(
    {
        "environments",
        "clients",
        "client_secrets",
        "redirect_uris",
        "organizations",
        "domains",
        "connections",
        "environment_branding",
        "organization_branding",
        "brand_images",
        "webhook_endpoints",
    }
)
# Execution option for writes that change nothing the cache holds (a secret's last_used_time, a webhook
# endpoint's failing_since); the migrations' UPDATE triggers leave those columns out too.
NOT_CONFIG = "entryway_not_config"
_DIRTY = "entryway_config_dirty"
_MISSING = object()


class ConfigCache:
    def __init__(
        self, engine: Engine, *, check_seconds: float = 1.0, max_entries: int = DEFAULT_CONFIG_CACHE_ENTRIES
    ) -> None:
        self.engine = engine
        self.check_seconds = check_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._epoch = 0
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self.hits = 0
        self.misses = 0
        _watch(engine, self)

    def get(
        self,
        key: Hashable,
        load: Callable[[], T],
        related: Callable[[T], Iterable[tuple[Hashable, Any]]] | None = None,
    ) -> T:
        """The cached value for `key`, or `load()`'s (cached unless the cache was cleared meanwhile).

        `related(value)` names further entries the same load answered (one joined query that found a domain, its
        organization's connections and each connection): they are stored with it, under the same epoch check,
        so the next steps of a login find them without a query of their own.
        """
        self._check_generation()
        with self._lock:
            value = self._entries.get(key, _MISSING)
            if value is not _MISSING:
                self._entries.move_to_end(key)
                self.hits += 1
                return value
            epoch = self._epoch
            self.misses += 1
        value = load()
        extra = list(related(value)) if related is not None else []
        with self._lock:
            if self._epoch == epoch:
                for extra_key, extra_value in extra:
                    self._entries[extra_key] = extra_value
                    self._entries.move_to_end(extra_key)
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) when `key` is cached and no generation check is due; (False, None) otherwise.

        Never touches the database, so async code can use it on the event loop and fall back to `get` in a
        thread only on a miss. A due check counts as a miss: the value might be stale."""
        if time.monotonic() - self._checked_at >= self.check_seconds:
            return False, None
        with self._lock:
            value = self._entries.get(key, _MISSING)
            if value is _MISSING:
                return False, None
            self._entries.move_to_end(key)
            self.hits += 1
            return True, value

    def fetch(
        self,
        key: Hashable,
        read: Callable[..., T],
        *args: Any,
        related: Callable[[T], Iterable[tuple[Hashable, Any]]] | None = None,
    ) -> T:
        """`read(conn, *args)` on a fresh connection, cached under `key` (a tuple naming the lookup and args)."""

        def load() -> T:
            with read_connection(self.engine) as conn:
                return read(conn, *args)

        return self.get(key, load, related)

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _check_generation(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_seconds:
            return
        self._checked_at = now
        try:
            with read_connection(self.engine) as conn:
                generation = conn.execute(select(config_generation.c.value)).scalar()
        except SQLAlchemyError:
            # The database is down: serve nothing cached from before the outage without a fresh look once it is
            # back. The caller fails now (503), rather than wait once more for a connection to load with, which
            # would double the time to answer when each wait is a connect or a pool timeout.
            self._checked_at = float("-inf")
            self.clear()
            raise
        if generation != self._generation:
            self._generation = generation
            self.clear()


# One listener per engine, shared by every cache on it (tests build many runtimes on one engine).
_caches: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[ConfigCache]] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _watch(engine: Engine, cache: ConfigCache) -> None:
    with _registry_lock:
        caches = _caches.get(engine)
        if caches is None:
            caches = weakref.WeakSet()
            _caches[engine] = caches
            event.listen(engine, "after_execute", _after_execute)
            event.listen(engine, "commit", _on_commit)
            event.listen(engine, "rollback", _on_rollback)
        caches.add(cache)


def _after_execute(conn: Connection, statement: Any, *_args: Any) -> None:
    if not isinstance(statement, Insert | Update | Delete):
        return
    if statement.get_execution_options().get(NOT_CONFIG):
        return
    if getattr(statement.table, "name", None) in WATCHED_TABLES:
        conn.info[_DIRTY] = True


def _on_commit(conn: Connection) -> None:
    if _pop_dirty(conn):
        for cache in list(_caches.get(conn.engine, ())):
            cache.clear()


def _on_rollback(conn: Connection) -> None:
    _pop_dirty(conn)


def _pop_dirty(conn: Connection) -> bool:
    try:
        return bool(conn.info.pop(_DIRTY, False))
    except SQLAlchemyError:
        # The database connection was lost mid-transaction (PostgreSQL down): reading `info` would raise here,
        # inside SQLAlchemy's rollback, and turn the request's 503 into a 500. Nothing was committed, so there is
        # nothing to invalidate; clear every cache anyway, as _check_generation does when the database is down.
        for cache in list(_caches.get(conn.engine, ())):
            cache.clear()
        return False
