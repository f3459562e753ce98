"""Changing branding: the stored values of an environment or organization, their updates, and unsaved previews.

A change is checked whole (model/branding_input.py) before any write; then images are inserted
content-addressed, the branding row is written, and images no branding refers to any more are deleted, all
in the caller's one transaction.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from entryway.model.brand_images import CheckedImage
from entryway.model.branding_input import UNSET, BrandingChange
from entryway.model.errors import invalid
from entryway.runtime import Runtime
from entryway.services.branding import Branding, build_branding, image_url
from entryway.store.tables import brand_images, environment_branding, organization_branding

ENVIRONMENT_FIELDS = ("display_name", "accent_color", "logo", "favicon")
ORGANIZATION_FIELDS = ("display_name", "logo")


@dataclass(frozen=True)
class StoredImage:
    id: str
    content_type: str
    url: str
    width: int | None
    height: int | None
    size_bytes: int


@dataclass(frozen=True)
class StoredBranding:
    """What was set (None where the default applies), as the API shows it beside the resolved branding."""

    display_name: str | None
    accent_color: str | None
    logo: StoredImage | None
    favicon: StoredImage | None
    update_time: datetime | None


def _image(conn: Connection, env_id: str, image_id: str | None) -> StoredImage | None:
    if not image_id:
        return None
    row = conn.execute(
        select(brand_images).where(brand_images.c.environment_id == env_id, brand_images.c.id == image_id)
    ).first()
    if row is None:
        return None
    return StoredImage(
        row.id, row.content_type, image_url(row.id, row.content_type), row.width, row.height, len(row.data)
    )


def get_environment_branding(conn: Connection, env_id: str) -> StoredBranding:
    row = conn.execute(select(environment_branding).where(environment_branding.c.environment_id == env_id)).first()
    if row is None:
        return StoredBranding(None, None, None, None, None)
    return StoredBranding(
        row.display_name,
        row.accent_color,
        _image(conn, env_id, row.logo_image_id),
        _image(conn, env_id, row.favicon_image_id),
        row.update_time,
    )


def get_organization_branding(conn: Connection, env_id: str, org_id: str) -> StoredBranding:
    row = conn.execute(
        select(organization_branding).where(
            organization_branding.c.organization_id == org_id, organization_branding.c.environment_id == env_id
        )
    ).first()
    if row is None:
        return StoredBranding(None, None, None, None, None)
    return StoredBranding(row.display_name, None, _image(conn, env_id, row.logo_image_id), None, row.update_time)


def _store_image(rt: Runtime, conn: Connection, env_id: str, image: CheckedImage) -> str:
    digest = hashlib.sha256(image.data).hexdigest()
    exists = conn.execute(
        select(brand_images.c.id).where(brand_images.c.environment_id == env_id, brand_images.c.id == digest)
    ).first()
    if exists is None:
        conn.execute(
            insert(brand_images).values(
                environment_id=env_id,
                id=digest,
                content_type=image.content_type,
                data=image.data,
                width=image.width,
                height=image.height,
                create_time=rt.clock.now(),
            )
        )
    return digest


def _row_values(
    rt: Runtime, conn: Connection, env_id: str, change: BrandingChange, fields: tuple[str, ...]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(change, name)
        if value is UNSET:
            continue
        if name in ("logo", "favicon"):
            values[f"{name}_image_id"] = _store_image(rt, conn, env_id, value) if value is not None else None
        else:
            values[name] = value
    return values


def _upsert(conn: Connection, table: Table, key: dict[str, str], values: dict[str, Any]) -> None:
    where = [table.c[k] == v for k, v in key.items()]
    if conn.execute(update(table).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(table).values(**key, **values))


def _forget_unused_images(conn: Connection, env_id: str) -> None:
    used: set[str] = set()
    for row in conn.execute(
        select(environment_branding.c.logo_image_id, environment_branding.c.favicon_image_id).where(
            environment_branding.c.environment_id == env_id
        )
    ):
        used.update(i for i in row if i)
    for (image_id,) in conn.execute(
        select(organization_branding.c.logo_image_id).where(organization_branding.c.environment_id == env_id)
    ):
        if image_id:
            used.add(image_id)
    stored = {r.id for r in conn.execute(select(brand_images.c.id).where(brand_images.c.environment_id == env_id))}
    unused = stored - used
    if unused:
        conn.execute(delete(brand_images).where(brand_images.c.environment_id == env_id, brand_images.c.id.in_(unused)))


def update_environment_branding(rt: Runtime, conn: Connection, env_id: str, change: BrandingChange) -> StoredBranding:
    if change.violations:
        raise invalid(change.violations, "The branding has invalid fields; nothing was changed")
    values = _row_values(rt, conn, env_id, change, ENVIRONMENT_FIELDS)
    _upsert(conn, environment_branding, {"environment_id": env_id}, {**values, "update_time": rt.clock.now()})
    _forget_unused_images(conn, env_id)
    return get_environment_branding(conn, env_id)


def update_organization_branding(
    rt: Runtime, conn: Connection, env_id: str, org_id: str, change: BrandingChange
) -> StoredBranding:
    if change.violations:
        raise invalid(change.violations, "The branding has invalid fields; nothing was changed")
    values = _row_values(rt, conn, env_id, change, ORGANIZATION_FIELDS)
    _upsert(
        conn,
        organization_branding,
        {"organization_id": org_id},
        {**values, "environment_id": env_id, "update_time": rt.clock.now()},
    )
    _forget_unused_images(conn, env_id)
    return get_organization_branding(conn, env_id, org_id)


def _data_uri(image: CheckedImage) -> str:
    return f"data:{image.content_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def preview_branding(
    conn: Connection,
    env_id: str,
    environment_change: BrandingChange,
    organization_id: str | None = None,
    organization_change: BrandingChange | None = None,
) -> Branding:
    """The branding a page would have if the changes were saved: stored values where the change is silent,
    unsaved images as data: URIs (the page CSP allows `img-src data:`). Nothing is written."""
    violations = environment_change.violations + (organization_change.violations if organization_change else [])
    if violations:
        raise invalid(violations, "The branding has invalid fields")
    stored_env = get_environment_branding(conn, env_id)

    def pick(change: BrandingChange | None, name: str, fallback: Any) -> Any:
        value = getattr(change, name) if change is not None else UNSET
        if value is UNSET:
            return fallback
        if isinstance(value, CheckedImage):
            return _data_uri(value)
        return value

    env_name = pick(environment_change, "display_name", stored_env.display_name)
    env_logo = pick(environment_change, "logo", stored_env.logo.url if stored_env.logo else None)
    name, logo = env_name, env_logo
    if organization_id is not None:
        stored_org = get_organization_branding(conn, env_id, organization_id)
        name = pick(organization_change, "display_name", stored_org.display_name) or env_name
        logo = pick(organization_change, "logo", stored_org.logo.url if stored_org.logo else None) or env_logo
    return build_branding(
        display_name=name,
        accent_color=pick(environment_change, "accent_color", stored_env.accent_color),
        logo_url=logo,
        favicon_url=pick(environment_change, "favicon", stored_env.favicon.url if stored_env.favicon else None),
        organization_id=organization_id,
    )
