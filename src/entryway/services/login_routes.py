"""The login path's routing reads, each one indexed query: a domain (or an organization) together with every
connection of its organization.

With many organizations nearly every login meets a configuration-cache miss (each organization logs in rarely).
Reading the domain, then the organization's connections, then the connection again at the ACS and the token
endpoint cost three or four round trips per login; one joined read answers all of them, and the caller stores
each connection in the cache under its own key (store/config_cache.py `related`), so the later steps hit.

Plans (PostgreSQL): the domain is found through uq_domains_environment_id_domain, its organization's
connections through ix_connections_organization_id; an organization through its primary key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from entryway.model.connections import SsoConnection
from entryway.services.connections import CONNECTION_COLUMNS, connection_from_values
from entryway.services.domains import lookup_form
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import connections, domains, organizations


@dataclass(frozen=True)
class Route:
    """Where a domain or organization selector leads: the organization and its connections (ordered by ID)."""

    organization_id: str
    connections: tuple[SsoConnection, ...]


def _route(rows: Sequence[Any], env_id: str) -> Route | None:
    """Rows of (organization ID, the connection's CONNECTION_COLUMNS...): the route, with this environment's
    connections only, ordered by ID (in Python: see _BY_DOMAIN). A cache miss reads one of these per login, so
    a connection is built straight from the row's values: no per-table dictionaries, no unused columns."""
    if not rows:
        return None
    found = (
        connection_from_values(*row[1:])
        for row in rows
        if row[1] is not None  # the outer join's row for an organization without any connection
    )
    return Route(rows[0][0], tuple(sorted((c for c in found if c.environment_id == env_id), key=lambda c: c.id)))


# Neither the environment of the connections nor their order is asked of the database: with either, both
# SQLite (ORDER BY served by ix_connections_env_id) and PostgreSQL's generic plan (a BitmapAnd with
# ix_connections_env_id) read every connection of the environment — 58 ms (SQLite) and 14 ms (PostgreSQL) a
# login at 100,000 organizations. Joined on the organization alone, the connections come through
# ix_connections_organization_id (0.06 to 0.14 ms); the environment is still checked, on the few rows returned.
#
# Hot statements (store/hot_statements.py): at 100,000 organizations nearly every login reads its route, and
# through `Connection.execute` SQLAlchemy's per-execution work was about half of that read's CPU.
_BY_DOMAIN = HotStatement(
    select(domains.c.organization_id, *CONNECTION_COLUMNS)
    .select_from(domains.outerjoin(connections, connections.c.organization_id == domains.c.organization_id))
    .where(domains.c.environment_id == bindparam("env_id"), domains.c.domain == bindparam("domain"))
)
_BY_ORGANIZATION = HotStatement(
    select(organizations.c.id, *CONNECTION_COLUMNS)
    .select_from(organizations.outerjoin(connections, connections.c.organization_id == organizations.c.id))
    .where(organizations.c.id == bindparam("org_id"), organizations.c.environment_id == bindparam("env_id"))
)


def route_for_domain(conn: Connection, env_id: str, domain: str) -> Route | None:
    """The organization that owns `domain` in this environment, with its connections; None when none does."""
    return _route(_BY_DOMAIN.all(conn, {"env_id": env_id, "domain": lookup_form(domain)}), env_id)


def route_for_organization(conn: Connection, env_id: str, org_id: str) -> Route | None:
    """The organization `org_id` of this environment with its connections; None when there is no such one."""
    return _route(_BY_ORGANIZATION.all(conn, {"env_id": env_id, "org_id": org_id}), env_id)


def route_entries(env_id: str) -> Any:
    """For the configuration cache: the entries a route also answers (each of its connections by ID)."""

    def entries(route: Route | None) -> Iterator[tuple[Hashable, object]]:
        for connection in route.connections if route is not None else ():
            yield ("connection", env_id, connection.id), connection

    return entries
