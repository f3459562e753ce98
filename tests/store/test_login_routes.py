"""The login path's routing: a domain (or an organization) and all its organization's connections in one
indexed query, after which the ACS, token and simulator lookups of the same connection need no query."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import Connection, event, insert, select

from entryway.model.connections import DomainType
from entryway.model.errors import LoginError
from entryway.model.selectors import choose_selector
from entryway.runtime import Runtime
from entryway.services import domains, logins, organizations
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.connections import set_enabled
from entryway.services.login_routes import route_for_domain, route_for_organization
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import connections


@contextmanager
def statements(rt: Runtime) -> Iterator[list[str]]:
    """The SQL statements run on the engine meanwhile, but the cache's generation check: those SQLAlchemy runs
    (its cursor event) and the hot statements run on the DBAPI cursor directly, which bypass that event."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "config_generation" not in statement:
            seen.append(statement)

    run_on_cursor = HotStatement._run

    def record_hot(hot: HotStatement, conn: Connection, given: Mapping[str, Any]) -> Any:
        plan, cursor = run_on_cursor(hot, conn, given)
        seen.append(plan.sql)
        return plan, cursor

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        with patch.object(HotStatement, "_run", record_hot):
            yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)


def _selector(**given: str) -> Any:
    fields = dict(connection_id=None, organization_id=None, domain=None, domain_hint=None, login_hint=None)
    return choose_selector(**{**fields, **given})


def test_a_cold_login_routes_in_one_query_and_its_later_steps_in_none(rt: Runtime, seed: DevSeed) -> None:
    env = seed.environment
    rt.config.clear()
    with statements(rt) as seen:
        found = logins.resolve_connection(rt, env, _selector(login_hint="jane@EXAMPLE.com"))
    assert found.id == seed.connection_id
    assert len(seen) == 1 and "JOIN" in seen[0].upper()
    with statements(rt) as seen:
        # the ACS, the token endpoint and the simulator look the connection up by ID
        assert logins.cached_connection(rt, env.id, seed.connection_id) == found
        assert logins.resolve_connection(rt, env, _selector(login_hint="joe@example.com")) == found
    assert seen == []


def test_routes_carry_every_connection_of_the_organization_in_id_order(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with rt.engine.connect() as conn:
        by_domain = route_for_domain(conn, env_id, "Example.COM")
        by_org = route_for_organization(conn, env_id, seed.organization_id)
        assert route_for_domain(conn, env_id, "unknown.example") is None
        assert route_for_organization(conn, env_id, "org_unknown") is None
        assert route_for_organization(conn, "env_other", seed.organization_id) is None
    assert by_domain is not None and by_org is not None
    assert by_domain == by_org and by_domain.organization_id == seed.organization_id
    assert [c.id for c in by_domain.connections] == [seed.connection_id]


def test_an_organization_without_connections_is_found_and_refused(rt: Runtime, seed: DevSeed) -> None:
    env = seed.environment
    with rt.engine.begin() as conn:
        bare = organizations.create_organization(rt, conn, env.id, display_name="Bare")
        domains.create_domain(
            rt, conn, env.id, bare.id, domain="bare.example", domain_type=DomainType.ORGANIZATION_DOMAIN
        )
    with rt.engine.connect() as conn:
        route = route_for_domain(conn, env.id, "bare.example")
    assert route is not None and route.organization_id == bare.id and route.connections == ()
    for selector in (_selector(login_hint="a@bare.example"), _selector(organization_id=bare.id)):
        with pytest.raises(LoginError) as refused:
            logins.resolve_connection(rt, env, selector)
        assert refused.value.code == "no_active_connections"


def test_a_disabled_connection_is_refused_through_a_warm_route(rt: Runtime, seed: DevSeed) -> None:
    env = seed.environment
    assert logins.resolve_connection(rt, env, _selector(login_hint="jane@example.com")).id == seed.connection_id
    with rt.engine.begin() as conn:
        set_enabled(rt, conn, env, seed.connection_id, False)
    with pytest.raises(LoginError) as refused:
        logins.resolve_connection(rt, env, _selector(login_hint="jane@example.com"))
    assert refused.value.code == "no_active_connections"
    cached = logins.cached_connection(rt, env.id, seed.connection_id)
    assert cached is not None and not cached.enabled  # the connection entry the route stored went too


def test_connections_come_sorted_and_only_from_this_environment(rt: Runtime, seed: DevSeed) -> None:
    """The query asks neither order nor environment of the connections (see _BY_DOMAIN); Python does both."""
    other = seed_development(rt, "http://other.localhost:8001", "http://localhost:3000/callback")
    with rt.engine.begin() as conn:
        row = dict(conn.execute(select(connections).where(connections.c.id == seed.connection_id)).one()._mapping)
        conn.execute(insert(connections).values({**row, "id": "conn_zzzz_last"}))
        conn.execute(insert(connections).values({**row, "id": "conn_0000_first"}))
        # An impossible row (another environment's connection under this organization) stays out of the route.
        conn.execute(
            insert(connections).values({**row, "id": "conn_1111_foreign", "environment_id": other.environment.id})
        )
    env_id = seed.environment.id
    with rt.engine.connect() as conn:
        by_domain = route_for_domain(conn, env_id, "example.com")
        by_org = route_for_organization(conn, env_id, seed.organization_id)
    assert by_domain is not None and by_org is not None
    expected = sorted(["conn_zzzz_last", "conn_0000_first", seed.connection_id])
    assert [c.id for c in by_domain.connections] == expected
    assert [c.id for c in by_org.connections] == expected


def test_a_route_miss_sends_the_database_one_statement(rt: Runtime, seed: DevSeed) -> None:
    """What a cache load costs with 100,000 organizations, where nearly every login misses: one statement. On
    PostgreSQL no BEGIN and ROLLBACK around it (autocommit); on SQLite nothing either: switching its connection
    to autocommit and back cost a PRAGMA on every miss, which took most of a miss's CPU (0.21 → 0.09 ms)."""
    env_id = seed.environment.id
    sent: list[str] = []
    driver: list[Any] = []

    def read(conn: Any, domain: str) -> Any:
        raw = conn.connection.driver_connection
        driver.append(raw)
        if rt.engine.dialect.name == "sqlite":
            raw.set_trace_callback(sent.append)  # every statement SQLite runs, the driver's own included
        else:
            assert raw.autocommit
            sent.append("SELECT (autocommit)")
        return route_for_domain(conn, env_id, domain)

    rt.config.clear()
    try:
        route = rt.config.fetch(("test_route", env_id), read, "example.com")
    finally:
        if rt.engine.dialect.name == "sqlite":
            driver[0].set_trace_callback(None)
    assert route is not None and [c.id for c in route.connections] == [seed.connection_id]
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("SELECT"), sent
