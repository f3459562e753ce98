"""Organizations: the customer companies of an environment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select, update

from entryway.events import payloads
from entryway.events.outbox import emit_event
from entryway.ids import new_id
from entryway.model.connections import Organization
from entryway.model.errors import FieldViolation, conflict, invalid, not_found
from entryway.runtime import Runtime
from entryway.store.tables import organizations

MAX_DISPLAY_NAME = 200
MAX_EXTERNAL_ID = 200
MAX_LOGO_URL = 512
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 1024
MAX_METADATA_BYTES = 16 * 1024
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
_UPDATABLE = frozenset({"display_name", "external_id", "metadata", "slug", "logo_url"})


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


def get_organization(conn: Connection, env_id: str, org_id: str) -> Organization:
    found = find_organization(conn, env_id, org_id)
    if found is None:
        raise not_found("organization", org_id)
    return found


def find_by_external_id(conn: Connection, env_id: str, external_id: str) -> Organization | None:
    row = conn.execute(
        select(organizations).where(
            organizations.c.environment_id == env_id, organizations.c.external_id == external_id
        )
    ).first()
    return organization_from_row(row) if row is not None else None


def get_by_external_id(conn: Connection, env_id: str, external_id: str) -> Organization:
    found = find_by_external_id(conn, env_id, external_id)
    if found is None:
        raise not_found("organization with external_id", external_id)
    return found


def list_organizations(
    conn: Connection, env_id: str, *, after_id: str | None = None, limit: int | None = None
) -> list[Organization]:
    """Organizations in ID (= creation) order, starting after `after_id` (keyset paging)."""
    query = select(organizations).where(organizations.c.environment_id == env_id)
    if after_id is not None:
        query = query.where(organizations.c.id > after_id)
    query = query.order_by(organizations.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [organization_from_row(r) for r in conn.execute(query)]


def count_organizations(conn: Connection, env_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(organizations).where(organizations.c.environment_id == env_id)
        ).scalar_one()
    )


def _check_fields(values: Mapping[str, Any]) -> list[FieldViolation]:
    """Every rule the given organization fields break (only the fields present are checked)."""
    problems: list[FieldViolation] = []
    if "display_name" in values:
        name = values["display_name"]
        if not isinstance(name, str) or not name.strip():
            problems.append(FieldViolation("display_name", "a display name is required"))
        elif len(name) > MAX_DISPLAY_NAME:
            problems.append(FieldViolation("display_name", f"at most {MAX_DISPLAY_NAME} characters"))
    if values.get("external_id") is not None:
        ext = values["external_id"]
        if not isinstance(ext, str) or not ext.strip():
            problems.append(FieldViolation("external_id", "must be a non-empty string, or null to clear it"))
        elif len(ext) > MAX_EXTERNAL_ID:
            problems.append(FieldViolation("external_id", f"at most {MAX_EXTERNAL_ID} characters"))
    if values.get("slug") is not None:
        slug = values["slug"]
        if not isinstance(slug, str) or not _SLUG.match(slug):
            problems.append(
                FieldViolation(
                    "slug", "1-100 lower-case letters, digits and hyphens, starting and ending with a letter or digit"
                )
            )
    if values.get("logo_url") is not None:
        problems.extend(FieldViolation("logo_url", p) for p in _check_logo_url(values["logo_url"]))
    if "metadata" in values:
        problems.extend(_check_metadata(values["metadata"]))
    return problems


def _check_logo_url(url: Any) -> list[str]:
    if not isinstance(url, str):
        return ["must be a string"]
    if len(url) > MAX_LOGO_URL:
        return [f"at most {MAX_LOGO_URL} characters"]
    try:
        parts = urlsplit(url)
    except ValueError:
        return ["is not a valid URL"]
    if parts.scheme != "https" or not parts.hostname:
        return ["must be an absolute https URL"]
    if parts.username or parts.password:
        return ["must not contain user information"]
    if any(ch.isspace() for ch in url):
        return ["must not contain whitespace"]
    return []


def _check_metadata(metadata: Any) -> list[FieldViolation]:
    if metadata is None:
        return []
    if not isinstance(metadata, dict):
        return [FieldViolation("metadata", "must be an object of string values")]
    problems: list[FieldViolation] = []
    if len(metadata) > MAX_METADATA_KEYS:
        problems.append(FieldViolation("metadata", f"at most {MAX_METADATA_KEYS} keys"))
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > MAX_METADATA_KEY:
            problems.append(FieldViolation(f"metadata.{key}", f"keys are 1-{MAX_METADATA_KEY} characters"))
        if not isinstance(value, str):
            problems.append(FieldViolation(f"metadata.{key}", "values must be strings"))
        elif len(value) > MAX_METADATA_VALUE:
            problems.append(FieldViolation(f"metadata.{key}", f"values are at most {MAX_METADATA_VALUE} characters"))
    if len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        problems.append(FieldViolation("metadata", f"at most {MAX_METADATA_BYTES} bytes in all"))
    return problems


def _check_unique(conn: Connection, env_id: str, values: Mapping[str, Any], own_id: str | None) -> None:
    for column in ("external_id", "slug"):
        value = values.get(column)
        if value is None:
            continue
        query = select(organizations.c.id).where(
            organizations.c.environment_id == env_id, organizations.c[column] == value
        )
        if own_id is not None:
            query = query.where(organizations.c.id != own_id)
        if conn.execute(query).first() is not None:
            raise conflict(f"another organization already has {column} {value!r}", column)


def create_organization(
    rt: Runtime,
    conn: Connection,
    env_id: str,
    *,
    display_name: str,
    external_id: str | None = None,
    metadata: dict[str, str] | None = None,
    slug: str | None = None,
    logo_url: str | None = None,
) -> Organization:
    values: dict[str, Any] = {
        "display_name": display_name,
        "external_id": external_id,
        "metadata": metadata,
        "slug": slug,
        "logo_url": logo_url,
    }
    problems = _check_fields(values)
    if problems:
        raise invalid(problems)
    _check_unique(conn, env_id, values, None)
    now = rt.clock.now()
    org_id = new_id("org")
    conn.execute(
        insert(organizations).values(
            id=org_id,
            environment_id=env_id,
            display_name=display_name.strip(),
            external_id=external_id,
            slug=slug,
            logo_url=logo_url,
            metadata=metadata or {},
            create_time=now,
            update_time=now,
        )
    )
    created = get_organization(conn, env_id, org_id)
    _emit(conn, "organization.created", created, now)
    return created


def update_organization(
    rt: Runtime, conn: Connection, env_id: str, org_id: str, changes: Mapping[str, Any]
) -> Organization:
    """Apply the given fields (a PATCH): absent fields are kept, null clears an optional field."""
    current = get_organization(conn, env_id, org_id)
    unknown = sorted(set(changes) - _UPDATABLE)
    problems = [FieldViolation(name, "unknown field") for name in unknown]
    problems.extend(_check_fields(changes))
    if problems:
        raise invalid(problems)
    _check_unique(conn, env_id, changes, current.id)
    values = dict(changes)
    if "display_name" in values:
        values["display_name"] = values["display_name"].strip()
    if "metadata" in values:
        values["metadata"] = values["metadata"] or {}
    if not values:
        return current
    now = rt.clock.now()
    conn.execute(update(organizations).where(organizations.c.id == current.id).values(**values, update_time=now))
    updated = get_organization(conn, env_id, org_id)
    _emit(conn, "organization.updated", updated, now)
    return updated


def delete_organization(conn: Connection, env_id: str, org_id: str) -> None:
    """Delete an organization; its domains and connections go with it (ON DELETE CASCADE)."""
    current = get_organization(conn, env_id, org_id)
    conn.execute(delete(organizations).where(organizations.c.id == current.id))
    _emit(conn, "organization.deleted", current, None)


def _emit(conn: Connection, event_type: str, org: Organization, now: datetime | None) -> None:
    emit_event(
        conn,
        event_type,
        environment_id=org.environment_id,
        organization_id=org.id,
        data=payloads.organization(org),
        occurred_at=now,
    )
