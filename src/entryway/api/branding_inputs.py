"""Request bodies of the branding calls. Shapes only (absent, null or a string per field); the rules — colour
format, image type, size and content — are checked by model/branding_input.py, every field at once."""

from __future__ import annotations

from typing import Literal

from entryway.api.bodies import Input

# Two base64 images (a 256 KiB logo and a 64 KiB favicon) and the rest of the body.
BRANDING_BODY_BYTES = 512 * 1024


class BrandingUpdate(Input):
    display_name: str | None = None
    accent_color: str | None = None
    logo: str | None = None  # base64 (a data:image/…;base64, prefix is accepted); null removes it
    favicon: str | None = None


class OrganizationBrandingUpdate(Input):
    display_name: str | None = None
    logo: str | None = None


class BrandingPreview(Input):
    branding: BrandingUpdate | None = None
    organization_id: str | None = None
    organization_branding: OrganizationBrandingUpdate | None = None
    page: Literal["sample", "error", "signed_out"] = "sample"
