"""The `data` of each event: a compact JSON view of the resource, never a secret or a raw assertion.

Kept apart from the API's representations so that services can build them without importing the API layer;
the field names are the API's, so a receiver can fetch the full resource by its `id`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from entryway.model.connections import Domain, Organization, SsoConnection


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "display_name": org.display_name,
        "external_id": org.external_id,
        "slug": org.slug,
        "metadata": org.metadata,
        "create_time": timestamp(org.create_time),
        "update_time": timestamp(org.update_time),
    }


def domain(dom: Domain) -> dict[str, Any]:
    return {
        "id": dom.id,
        "organization_id": dom.organization_id,
        "domain": dom.domain,
        "domain_type": dom.domain_type.value,
        "verification_status": dom.verification_status,
        "create_time": timestamp(dom.create_time),
        "update_time": timestamp(dom.update_time),
    }


def connection(conn: SsoConnection) -> dict[str, Any]:
    return {
        "id": conn.id,
        "organization_id": conn.organization_id,
        "type": conn.type.value,
        "provider": conn.provider.value,
        "enabled": conn.enabled,
        "create_time": timestamp(conn.create_time),
        "update_time": timestamp(conn.update_time),
    }
