"""What a logo or favicon may be: which types, how many bytes, how many pixels. The type is sniffed from the
bytes (model/raster_images.py, model/svg_images.py); the checked image is what gets stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from entryway.model.raster_images import ImageError, check_ico, check_png, check_png_pixels, check_webp, sniff
from entryway.model.svg_images import SvgError, sanitize_svg


class ImagePurpose(StrEnum):
    LOGO = "logo"
    FAVICON = "favicon"


@dataclass(frozen=True)
class ImageRules:
    types: tuple[str, ...]
    max_bytes: int
    max_side: int  # pixels, for raster images


RULES = {
    # A logo is drawn at most 40 px high (80 at 2x); 1024 px is generous, and 256 KiB keeps pages light.
    ImagePurpose.LOGO: ImageRules(("image/png", "image/svg+xml", "image/webp"), 256 * 1024, 1024),
    ImagePurpose.FAVICON: ImageRules(("image/png", "image/svg+xml", "image/x-icon"), 64 * 1024, 512),
}

TYPE_NAMES = {"image/png": "PNG", "image/svg+xml": "SVG", "image/webp": "WebP", "image/x-icon": "ICO"}


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    data: bytes
    width: int | None  # None for SVG (vector)
    height: int | None


def check_brand_image(data: bytes, purpose: ImagePurpose) -> CheckedImage:
    """The image to store, or ImageError saying what to change."""
    rules = RULES[purpose]
    names = [TYPE_NAMES[t] for t in rules.types]
    allowed = ", ".join(names[:-1]) + " or " + names[-1]
    if not data:
        raise ImageError(f"the {purpose} is empty")
    if len(data) > rules.max_bytes:
        raise ImageError(f"the {purpose} is {len(data):,} bytes; at most {rules.max_bytes:,} bytes are accepted")
    kind = sniff(data)
    if kind is None:
        raise ImageError(f"the {purpose} is not a {allowed} image (its content matches none of them)")
    if kind not in rules.types:
        raise ImageError(f"a {TYPE_NAMES[kind]} image is not accepted as the {purpose}; use {allowed}")
    if kind == "image/svg+xml":
        try:
            clean = sanitize_svg(data)
        except SvgError as exc:
            raise ImageError(str(exc)) from exc
        return CheckedImage(kind, clean.data, None, None)
    image = {"image/png": check_png, "image/webp": check_webp, "image/x-icon": check_ico}[kind](data)
    if image.width > rules.max_side or image.height > rules.max_side:
        raise ImageError(
            f"the {purpose} is {image.width}x{image.height} pixels; at most {rules.max_side}x{rules.max_side}"
        )
    if kind == "image/png":
        check_png_pixels(data, image, rules.max_side * rules.max_side)
    return CheckedImage(kind, data, image.width, image.height)
