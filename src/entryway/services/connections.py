"""SSO connections. (Read side and the login-path lookups; writes are added by the API work.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from entryway.ids import new_id
from entryway.model.connections import ConnectionType, Provider, SsoConnection
from entryway.runtime import Runtime
from entryway.store.tables import connections


def connection_from_row(row: object) -> SsoConnection:
    r = row._mapping  # type: ignore[attr-defined]
    return SsoConnection(
        r["id"],
        r["environment_id"],
        r["organization_id"],
        ConnectionType(r["type"]),
        Provider(r["provider"]),
        bool(r["enabled"]),
        r["saml_config"] or {},
        r["oidc_config"] or {},
        r["attribute_mapping"] or {},
        r["create_time"],
        r["update_time"],
    )


def find_connection(conn: Connection, env_id: str, connection_id: str) -> SsoConnection | None:
    row = conn.execute(
        select(connections).where(connections.c.id == connection_id, connections.c.environment_id == env_id)
    ).first()
    return connection_from_row(row) if row is not None else None


def organization_connections(conn: Connection, env_id: str, org_id: str) -> list[SsoConnection]:
    rows = conn.execute(
        select(connections)
        .where(connections.c.organization_id == org_id, connections.c.environment_id == env_id)
        .order_by(connections.c.id)
    ).all()
    return [connection_from_row(r) for r in rows]


def sp_urls(env_url: str, connection_id: str) -> dict[str, str]:
    """The SP entity ID and ACS URL (CONTRACT §4), fixed when the connection is created."""
    base = f"{env_url}/sso/v1/saml/{connection_id}"
    return {"sp_entity_id": base, "sp_assertion_url": f"{base}/callback"}


def insert_connection(
    rt: Runtime,
    conn: Connection,
    *,
    env_id: str,
    env_url: str,
    organization_id: str,
    type: ConnectionType,
    provider: Provider,
    saml_config: dict[str, Any] | None = None,
    oidc_config: dict[str, Any] | None = None,
    attribute_mapping: dict[str, str] | None = None,
    enabled: bool = False,
    connection_id: str | None = None,
) -> SsoConnection:
    """Store an already-validated connection. SAML connections get their SP URLs fixed here."""
    connection_id = connection_id or new_id("conn")
    now = rt.clock.now()
    if type is ConnectionType.SAML:
        saml_config = {**sp_urls(env_url, connection_id), **(saml_config or {})}
    conn.execute(
        insert(connections).values(
            id=connection_id,
            environment_id=env_id,
            organization_id=organization_id,
            type=type.value,
            provider=provider.value,
            enabled=enabled,
            saml_config=saml_config,
            oidc_config=oidc_config,
            attribute_mapping=attribute_mapping or {},
            create_time=now,
            update_time=now,
        )
    )
    found = find_connection(conn, env_id, connection_id)
    assert found is not None
    return found
