"""The `data` of each event: a compact JSON view of the resource, never a secret or a raw assertion.

Kept apart from the API's representations so that services can build them without importing the API layer;
the field names are the API's, so a receiver can fetch the full resource by its `id`.
"""

from __future__ import annotations

from typing import Any

from entryway.model.connections import Domain, Organization, SsoConnection
from entryway.model.timestamps import rfc3339


def organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "display_name": org.display_name,
        "external_id": org.external_id,
        "slug": org.slug,
        "metadata": org.metadata,
        "create_time": rfc3339(org.create_time),
        "update_time": rfc3339(org.update_time),
    }


def domain(dom: Domain) -> dict[str, Any]:
    return {
        "id": dom.id,
        "organization_id": dom.organization_id,
        "domain": dom.domain,
        "domain_type": dom.domain_type.value,
        "verification_status": dom.verification_status,
        "create_time": rfc3339(dom.create_time),
        "update_time": rfc3339(dom.update_time),
    }


def connection(conn: SsoConnection) -> dict[str, Any]:
    return {
        "id": conn.id,
        "organization_id": conn.organization_id,
        "type": conn.type.value,
        "provider": conn.provider.value,
        "enabled": conn.enabled,
        "create_time": rfc3339(conn.create_time),
        "update_time": rfc3339(conn.update_time),
    }
