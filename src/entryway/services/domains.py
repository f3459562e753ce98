"""Organization domains: they route logins by email domain. (Read side; writes are added by the API work.)"""

from __future__ import annotations

from sqlalchemy import Connection, select

from entryway.model.connections import Domain, DomainType
from entryway.store.tables import domains


def domain_from_row(row: object) -> Domain:
    r = row._mapping  # type: ignore[attr-defined]
    return Domain(
        r["id"],
        r["environment_id"],
        r["organization_id"],
        r["domain"],
        DomainType(r["domain_type"]),
        r["verification_status"],
        r["verification_token"],
        r["create_time"],
        r["update_time"],
    )


def find_by_domain(conn: Connection, env_id: str, domain: str) -> Domain | None:
    row = conn.execute(
        select(domains).where(domains.c.environment_id == env_id, domains.c.domain == domain.lower())
    ).first()
    return domain_from_row(row) if row is not None else None
