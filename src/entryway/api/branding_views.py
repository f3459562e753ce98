"""The JSON shape of branding, shared by the API and the CLI's --json output."""

from __future__ import annotations

from typing import Any

from entryway.model.colors import ContrastWarning
from entryway.model.timestamps import rfc3339
from entryway.services.branding import Branding
from entryway.services.branding_updates import StoredBranding, StoredImage


def _absolute(base_url: str, url: str | None) -> str | None:
    if url is None or url.startswith("data:"):
        return url
    return base_url + url


def _image(base_url: str, image: StoredImage | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "url": _absolute(base_url, image.url),
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "size_bytes": image.size_bytes,
    }


def resolved(base_url: str, branding: Branding) -> dict[str, Any]:
    """What pages show, defaults filled in and derived colours computed."""
    return {
        "display_name": branding.display_name,
        "accent_color": branding.accent_color,
        "accent_foreground": branding.accent_foreground,
        "link_color": branding.link_color,
        "logo_url": _absolute(base_url, branding.logo_url),
        "favicon_url": _absolute(base_url, branding.favicon_url),
    }


def environment_branding(base_url: str, stored: StoredBranding, effective: Branding) -> dict[str, Any]:
    return {
        "display_name": stored.display_name,
        "accent_color": stored.accent_color,
        "logo": _image(base_url, stored.logo),
        "favicon": _image(base_url, stored.favicon),
        "update_time": rfc3339(stored.update_time),
        "resolved": resolved(base_url, effective),
    }


def organization_branding(
    base_url: str, organization_id: str, stored: StoredBranding, effective: Branding
) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "display_name": stored.display_name,
        "logo": _image(base_url, stored.logo),
        "update_time": rfc3339(stored.update_time),
        "resolved": resolved(base_url, effective),
    }


def warnings(found: list[ContrastWarning]) -> list[dict[str, Any]]:
    return [{"field": w.field, "description": w.description, "contrast_ratio": w.ratio} for w in found]
