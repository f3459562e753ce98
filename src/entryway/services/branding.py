"""Branding: what a hosted page shows for an environment, and for one organization of it.

Resolution, most specific first, field by field:

    display name   organization override → environment branding → "Entryway"
    logo           organization override → environment logo → none (the name is shown as text)
    favicon        environment favicon → Entryway's default favicon
    accent colour  environment accent → #3b5bdb; its foreground (white or dark text) is computed for contrast

How a page gets its branding: pages call `entryway.web.pages.render` (or `error_page`). With no `branding=`
argument, `render` resolves the environment the current request was routed to (by Host, custom domains
included) and, when the page passes `organization_id=`, that organization's overrides. A page outside any
environment (unknown Host) gets the defaults. `resolve_branding` is held per (environment, organization) in the
generation-checked configuration cache (store/config_cache.py): a branding write invalidates it on commit, here
at once and on other instances within ENTRYWAY_CONFIG_CACHE_SECONDS, so pages pay a dict lookup.

Images are stored in the database, content-addressed (SHA-256), and served by Entryway itself at
`/branding/images/<sha256>.<ext>` on the environment's own host: pages never load third-party content.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from entryway.model.colors import DARK, DEFAULT_ACCENT, TEXT_CONTRAST, WHITE, contrast_ratio, readable_foreground
from entryway.runtime import Runtime
from entryway.store.tables import brand_images, environment_branding, organization_branding

DEFAULT_NAME = "Entryway"
DEFAULT_FAVICON_URL = "/branding/default/favicon.svg"
IMAGE_PATH = "/branding/images/"

EXTENSIONS = {
    "image/png": "png",
    "image/svg+xml": "svg",
    "image/webp": "webp",
    "image/x-icon": "ico",
}


@dataclass(frozen=True)
class Branding:
    """Everything a page template needs; every value is already validated and safe to put in HTML and CSS."""

    display_name: str
    accent_color: str
    accent_foreground: str  # text drawn on the accent (buttons)
    link_color: str  # the accent where it reads as text on white, else the dark text colour
    logo_url: str | None
    favicon_url: str
    organization_id: str | None = None


def build_branding(
    *,
    display_name: str | None,
    accent_color: str | None,
    logo_url: str | None,
    favicon_url: str | None,
    organization_id: str | None = None,
) -> Branding:
    """Fill the defaults and compute the derived colours (shared by stored branding and unsaved previews)."""
    accent = accent_color or DEFAULT_ACCENT
    return Branding(
        display_name=display_name or DEFAULT_NAME,
        accent_color=accent,
        accent_foreground=readable_foreground(accent),
        link_color=accent if contrast_ratio(accent, WHITE) >= TEXT_CONTRAST else DARK,
        logo_url=logo_url,
        favicon_url=favicon_url or DEFAULT_FAVICON_URL,
        organization_id=organization_id,
    )


DEFAULT_BRANDING = build_branding(display_name=None, accent_color=None, logo_url=None, favicon_url=None)


def image_url(image_id: str, content_type: str) -> str:
    return f"{IMAGE_PATH}{image_id}.{EXTENSIONS.get(content_type, 'bin')}"


def _image_urls(conn: Connection, env_id: str, ids: list[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = conn.execute(
        select(brand_images.c.id, brand_images.c.content_type).where(
            brand_images.c.environment_id == env_id, brand_images.c.id.in_(wanted)
        )
    )
    return {r.id: image_url(r.id, r.content_type) for r in rows}


def load_branding(conn: Connection, env_id: str, organization_id: str | None = None) -> Branding:
    """Branding from the database (uncached): environment values, then the organization's overrides."""
    env_row = conn.execute(select(environment_branding).where(environment_branding.c.environment_id == env_id)).first()
    org_row = None
    if organization_id is not None:
        org_row = conn.execute(
            select(organization_branding).where(
                organization_branding.c.organization_id == organization_id,
                organization_branding.c.environment_id == env_id,
            )
        ).first()
    logo_id = (org_row.logo_image_id if org_row is not None else None) or (
        env_row.logo_image_id if env_row is not None else None
    )
    favicon_id = env_row.favicon_image_id if env_row is not None else None
    urls = _image_urls(conn, env_id, [logo_id, favicon_id])
    name = (org_row.display_name if org_row is not None else None) or (
        env_row.display_name if env_row is not None else None
    )
    return build_branding(
        display_name=name,
        accent_color=env_row.accent_color if env_row is not None else None,
        logo_url=urls.get(logo_id) if logo_id else None,
        favicon_url=urls.get(favicon_id) if favicon_id else None,
        organization_id=organization_id,
    )


def resolve_branding(rt: Runtime, env_id: str, organization_id: str | None = None) -> Branding:
    """The branding for a page of `env_id` (and `organization_id`), from the configuration cache: a change is
    seen at once by the instance that made it and within ENTRYWAY_CONFIG_CACHE_SECONDS by every other."""
    return rt.config.fetch(("branding", env_id, organization_id), load_branding, env_id, organization_id)
