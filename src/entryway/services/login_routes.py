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
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from entryway.model.connections import Domain, Organization, SsoConnection
from entryway.services.connections import connection_from_row
from entryway.services.domains import domain_from_row, lookup_form
from entryway.services.organizations import organization_from_row
from entryway.store.tables import connections, domains, organizations

_CONNECTION = "c_"


@dataclass(frozen=True)
class Route:
    """Where a domain or organization selector leads: the organization and its connections (ordered by ID)."""

    organization_id: str
    connections: tuple[SsoConnection, ...]


def _labelled(table: Table, prefix: str) -> list[Any]:
    return [column.label(prefix + column.name) for column in table.c]


def _unprefixed(mapping: Any, prefix: str) -> SimpleNamespace:
    """A row-like object (`_mapping`) holding the columns of one table of a joined row."""
    return SimpleNamespace(_mapping={k[len(prefix) :]: v for k, v in mapping.items() if k.startswith(prefix)})


def _connections(rows: Sequence[Any], env_id: str) -> tuple[SsoConnection, ...]:
    """The joined rows' connections, this environment's only, ordered by ID (in Python: see _BY_DOMAIN)."""
    found = (
        connection_from_row(_unprefixed(row._mapping, _CONNECTION))
        for row in rows
        if row._mapping[_CONNECTION + "id"] is not None  # the outer join's row for an organization without any
    )
    return tuple(sorted((c for c in found if c.environment_id == env_id), key=lambda c: c.id))


def _organization_connections(table: Table, organization_id: Any) -> Any:
    """`table` joined to the connections of the organization its `organization_id` names (none: one null row)."""
    return table.outerjoin(connections, connections.c.organization_id == organization_id)


# Neither the environment of the connections nor their order is asked of the database: with either, both
# SQLite (ORDER BY served by ix_connections_env_id) and PostgreSQL's generic plan (a BitmapAnd with
# ix_connections_env_id) read every connection of the environment — 58 ms (SQLite) and 14 ms (PostgreSQL) a
# login at 100,000 organizations. Joined on the organization alone, the connections come through
# ix_connections_organization_id (0.06 to 0.14 ms); the environment is still checked, on the few rows returned.
_BY_DOMAIN = (
    select(*_labelled(domains, "d_"), *_labelled(connections, _CONNECTION))
    .select_from(_organization_connections(domains, domains.c.organization_id))
    .where(domains.c.environment_id == bindparam("env_id"), domains.c.domain == bindparam("domain"))
)
_BY_ORGANIZATION = (
    select(*_labelled(organizations, "o_"), *_labelled(connections, _CONNECTION))
    .select_from(_organization_connections(organizations, organizations.c.id))
    .where(organizations.c.id == bindparam("org_id"), organizations.c.environment_id == bindparam("env_id"))
)


def route_for_domain(conn: Connection, env_id: str, domain: str) -> Route | None:
    """The organization that owns `domain` in this environment, with its connections; None when none does."""
    rows = conn.execute(_BY_DOMAIN, {"env_id": env_id, "domain": lookup_form(domain)}).all()
    if not rows:
        return None
    found: Domain = domain_from_row(_unprefixed(rows[0]._mapping, "d_"))
    return Route(found.organization_id, _connections(rows, env_id))


def route_for_organization(conn: Connection, env_id: str, org_id: str) -> Route | None:
    """The organization `org_id` of this environment with its connections; None when there is no such one."""
    rows = conn.execute(_BY_ORGANIZATION, {"env_id": env_id, "org_id": org_id}).all()
    if not rows:
        return None
    found: Organization = organization_from_row(_unprefixed(rows[0]._mapping, "o_"))
    return Route(found.id, _connections(rows, env_id))


def route_entries(env_id: str) -> Any:
    """For the configuration cache: the entries a route also answers (each of its connections by ID)."""

    def entries(route: Route | None) -> Iterator[tuple[Hashable, object]]:
        for connection in route.connections if route is not None else ():
            yield ("connection", env_id, connection.id), connection

    return entries
