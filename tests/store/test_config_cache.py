"""The configuration cache on the login path: a security-relevant change (a deactivated secret, a disabled
connection, a removed callback URL) takes effect at once on the instance that made it, and within the
cache's check interval on another instance sharing the database, whoever made the change and how."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update

from entryway.clock import Clock
from entryway.model.environments import RedirectKind
from entryway.model.errors import LoginError
from entryway.model.selectors import choose_selector
from entryway.runtime import Runtime
from entryway.services import credentials, environments, logins
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.branding import resolve_branding
from entryway.services.connections import set_enabled
from entryway.store.config_cache import ConfigCache
from entryway.store.tables import (
    client_secrets,
    config_generation,
    connections,
    environment_branding,
    webhook_endpoints,
)
from tests.conftest import make_settings

URL = "http://127.0.0.1:8123"
CALLBACK = "http://127.0.0.1:9/callback"
CHECK_SECONDS = 0.3


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, URL, CALLBACK)


@pytest.fixture
def other(rt: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    """A second instance: its own engine (own connections, own commit events) on the same database."""
    url = rt.engine.url.render_as_string(hide_password=False)
    settings = dataclasses.replace(make_settings(url, tmp_path), config_cache_seconds=CHECK_SECONDS)
    second = Runtime.build(settings, clock=Clock())
    yield second
    second.engine.dispose()


def _secret_id(rt: Runtime, client_id: str) -> str:
    with rt.engine.connect() as conn:
        return str(conn.execute(select(client_secrets.c.id).where(client_secrets.c.client_id == client_id)).scalar())


def _deactivate(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        client = credentials.environment_client(conn, seed.environment.id, seed.client_id)
        credentials.set_secret_status(rt, conn, client, _secret_id(rt, seed.client_id), "INACTIVE")


def _resolves(rt: Runtime, seed: DevSeed) -> bool:
    try:
        logins.resolve_connection(
            rt,
            seed.environment,
            choose_selector(
                connection_id=seed.connection_id, organization_id=None, domain=None, domain_hint=None, login_hint=None
            ),
        )
    except LoginError as err:
        assert err.code == "connection_not_active"
        return False
    return True


def _wait_until(condition: object, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not seen within {seconds} s")


def test_deactivated_secret_is_refused_at_once_on_the_same_instance(rt: Runtime, seed: DevSeed) -> None:
    assert seed.plain_secret is not None
    assert credentials.authenticate_client(rt, seed.client_id, seed.plain_secret) is not None
    assert credentials.authenticate_client(rt, seed.client_id, seed.plain_secret) is not None  # from the cache
    _deactivate(rt, seed)
    assert credentials.authenticate_client(rt, seed.client_id, seed.plain_secret) is None


def test_deactivated_secret_is_refused_by_another_instance_within_the_check_interval(
    rt: Runtime, other: Runtime, seed: DevSeed
) -> None:
    assert seed.plain_secret is not None
    secret = seed.plain_secret
    assert credentials.authenticate_client(other, seed.client_id, secret) is not None
    _deactivate(rt, seed)
    took = _wait_until(lambda: credentials.authenticate_client(other, seed.client_id, secret) is None, 5)
    assert took <= CHECK_SECONDS + 0.5


def test_disabled_connection_stops_logins_at_once_here_and_soon_elsewhere(
    rt: Runtime, other: Runtime, seed: DevSeed
) -> None:
    assert _resolves(rt, seed) and _resolves(other, seed)
    with rt.engine.begin() as conn:
        set_enabled(rt, conn, seed.environment, seed.connection_id, False)
    assert not _resolves(rt, seed)
    took = _wait_until(lambda: not _resolves(other, seed), 5)
    assert took <= CHECK_SECONDS + 0.5


def test_an_operators_sql_is_seen_too(rt: Runtime, other: Runtime, seed: DevSeed) -> None:
    """No application code runs: the database trigger bumps the generation."""
    assert _resolves(other, seed)
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE connections SET enabled = false WHERE id = :id"), {"id": seed.connection_id})
    _wait_until(lambda: not _resolves(other, seed), 5)


def test_removed_callback_url_is_refused_elsewhere(rt: Runtime, other: Runtime, seed: DevSeed) -> None:
    second = "http://127.0.0.1:9/second"
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, seed.environment, RedirectKind.CALLBACK, second)
    env_id = seed.environment.id
    _wait_until(lambda: environments.redirect_allowed(other, env_id, RedirectKind.CALLBACK, second), 5)
    with rt.engine.begin() as conn:
        environments.remove_redirect_uri(rt, conn, seed.environment, RedirectKind.CALLBACK, second)
    assert not environments.redirect_allowed(rt, env_id, RedirectKind.CALLBACK, second)
    _wait_until(lambda: not environments.redirect_allowed(other, env_id, RedirectKind.CALLBACK, second), 5)


def test_recording_a_secrets_use_is_not_a_configuration_change(rt: Runtime, seed: DevSeed) -> None:
    """Logins must not empty every instance's cache: last_used_time is outside the trigger."""
    assert seed.plain_secret is not None

    def generation() -> int:
        with rt.engine.connect() as conn:
            return int(conn.execute(select(config_generation.c.value)).scalar_one())

    before = generation()
    with rt.engine.begin() as conn:
        conn.execute(update(client_secrets).values(last_used_time=None))
    assert generation() == before
    assert credentials.authenticate_client(rt, seed.client_id, seed.plain_secret) is not None
    with rt.engine.connect() as conn:
        used = conn.execute(select(client_secrets.c.last_used_time)).scalar()
    assert used is not None
    assert generation() == before
    assert len(rt.config) > 0  # the write did not empty this process's cache either


def test_a_configuration_write_bumps_the_generation(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.connect() as conn:
        before = conn.execute(select(config_generation.c.value)).scalar_one()
    with rt.engine.begin() as conn:
        conn.execute(update(connections).where(connections.c.id == seed.connection_id).values(enabled=True))
    with rt.engine.connect() as conn:
        assert conn.execute(select(config_generation.c.value)).scalar_one() > before


def test_a_load_that_raced_with_a_clear_is_not_kept(rt: Runtime) -> None:
    cache = ConfigCache(rt.engine, check_seconds=60)
    loaded = threading.Event()

    def stale_load() -> str:
        cache.clear()  # a change committed while this load was reading the old row
        loaded.set()
        return "old"

    assert cache.get("key", stale_load) == "old"
    assert loaded.is_set()
    assert cache.get("key", lambda: "new") == "new"


def test_size_is_bounded(rt: Runtime) -> None:
    cache = ConfigCache(rt.engine, check_seconds=60, max_entries=3)
    for n in range(10):
        cache.get(n, lambda n=n: n)  # type: ignore[misc]
    assert len(cache) == 3
    assert cache.get(9, lambda: -1) == 9  # the most recent are kept
    assert cache.get(0, lambda: -1) == -1


def test_a_branding_change_reaches_the_pages_of_another_instance(rt: Runtime, other: Runtime, seed: DevSeed) -> None:
    """Hosted pages read branding through the cache; a write (here an operator's SQL) is seen elsewhere."""
    env_id = seed.environment.id
    assert resolve_branding(other, env_id).display_name == "Entryway"
    with rt.engine.begin() as conn:
        conn.execute(
            insert(environment_branding).values(
                environment_id=env_id, display_name="Acme Cloud", update_time=rt.clock.now()
            )
        )
    _wait_until(lambda: resolve_branding(other, env_id).display_name == "Acme Cloud", 5)
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE environment_branding SET display_name = 'Acme' WHERE environment_id = :e"), {"e": env_id}
        )
    _wait_until(lambda: resolve_branding(other, env_id).display_name == "Acme", 5)


def test_a_webhook_endpoints_failure_bookkeeping_is_not_a_configuration_change(rt: Runtime, seed: DevSeed) -> None:
    """The delivery worker writes failing_since on every failed attempt; that must not empty every cache."""
    now = rt.clock.now()
    with rt.engine.begin() as conn:  # the row as the service stores it; the URL's checks are not the point here
        conn.execute(
            insert(webhook_endpoints).values(
                id="wh_bookkeeping", environment_id=seed.environment.id, url="https://hooks.example.com/entryway",
                event_types=["sso.login_failed"], secret=b"sealed", status="ENABLED", create_time=now, update_time=now,
            )
        )  # fmt: skip

    def generation() -> int:
        with rt.engine.connect() as conn:
            return int(conn.execute(select(config_generation.c.value)).scalar_one())

    before = generation()
    with rt.engine.begin() as conn:
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == "wh_bookkeeping")
            .values(failing_since=rt.clock.now(), update_time=rt.clock.now())
        )
    assert generation() == before
    with rt.engine.begin() as conn:
        conn.execute(
            update(webhook_endpoints).where(webhook_endpoints.c.id == "wh_bookkeeping").values(status="DISABLED")
        )
    assert generation() > before


def test_peek_answers_only_from_a_current_cache(rt: Runtime) -> None:
    """`peek` (the event-loop fast path) never reads the database, so it must not answer when `get` would have
    checked the generation first: a due check, an unknown key or a cleared cache is a miss."""
    cache = ConfigCache(rt.engine, check_seconds=60)
    assert cache.peek("key") == (False, None)  # nothing loaded, and the first check is due
    assert cache.get("key", lambda: None) is None  # None (an unknown host, say) is a cached answer too
    assert cache.peek("key") == (True, None)
    assert cache.peek("other") == (False, None)
    cache.clear()
    assert cache.peek("key") == (False, None)
    cache.get("key", lambda: "value")
    cache.check_seconds = 0  # the next check is due: only `get`, which reads the generation, may answer
    assert cache.peek("key") == (False, None)
    assert cache.get("key", lambda: "reloaded") == "value"


def test_the_fast_path_answers_only_what_environment_for_host_answered(rt: Runtime, seed: DevSeed) -> None:
    """The async dependency answers from the cache only what `environment_for_host` would answer."""
    host = URL.removeprefix("http://")
    assert environments.cached_environment_for_host(rt, host) == (False, None)
    env = environments.environment_for_host(rt, host)
    assert env is not None and env.id == seed.environment.id
    assert environments.cached_environment_for_host(rt, host.upper()) == (True, env)
    assert environments.cached_environment_for_host(rt, "unknown.example") == (False, None)


def test_related_entries_are_kept_with_their_load_and_not_after_a_racing_clear(rt: Runtime) -> None:
    cache = ConfigCache(rt.engine, check_seconds=60)

    def pairs(value: str) -> list[tuple[str, str]]:
        return [(f"{value}-a", "A"), (f"{value}-b", "B")]

    assert cache.get("route", lambda: "r1", pairs) == "r1"
    assert cache.get("r1-a", lambda: "loaded") == "A" and cache.get("r1-b", lambda: "loaded") == "B"

    def stale_load() -> str:
        cache.clear()  # a change committed while the joined read was running
        return "r2"

    assert cache.get("route2", stale_load, pairs) == "r2"
    assert cache.get("r2-a", lambda: "fresh") == "fresh"  # neither the value nor its related entries were kept
    assert cache.get("route2", lambda: "again") == "again"
