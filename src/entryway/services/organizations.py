"""Organizations: the customer companies of an environment. (Read side; writes are added by the API work.)"""

from __future__ import annotations

from sqlalchemy import Connection, select

from entryway.model.connections import Organization
from entryway.store.tables import organizations


def organization_from_row(row: object) -> Organization:
    r = row._mapping  # type: ignore[attr-defined]
    return Organization(
        r["id"],
        r["environment_id"],
        r["display_name"],
        r["external_id"],
        r["slug"],
        r["logo_url"],
        r["metadata"] or {},
        r["create_time"],
        r["update_time"],
    )


def find_organization(conn: Connection, env_id: str, org_id: str) -> Organization | None:
    row = conn.execute(
        select(organizations).where(organizations.c.id == org_id, organizations.c.environment_id == env_id)
    ).first()
    return organization_from_row(row) if row is not None else None
