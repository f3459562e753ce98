"""A requested branding change, checked field by field before anything is stored.

Each field is absent (unchanged), `null` (back to the default) or a value. Images arrive base64-encoded (a
`data:image/...;base64,` prefix is tolerated and ignored: the type is sniffed from the bytes). Every violation
is collected, so one answer names every field to fix; contrast problems are warnings, never violations.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from entryway.model.brand_images import RULES, CheckedImage, ImagePurpose, check_brand_image
from entryway.model.colors import ColorError, ContrastWarning, contrast_warnings, parse_color
from entryway.model.errors import FieldViolation
from entryway.model.raster_images import ImageError

MAX_DISPLAY_NAME = 100
UNSET: Any = object()  # a field the request did not mention


@dataclass
class BrandingChange:
    """Validated values; UNSET where the request said nothing, None where it asked for the default."""

    display_name: Any = UNSET
    accent_color: Any = UNSET
    logo: Any = UNSET  # CheckedImage | None | UNSET
    favicon: Any = UNSET
    violations: list[FieldViolation] = field(default_factory=list)

    def warnings(self) -> list[ContrastWarning]:
        return contrast_warnings(self.accent_color) if isinstance(self.accent_color, str) else []


def check_display_name(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string (or null for the default)")
    name = value.strip()
    if not name:
        raise ValueError("must not be empty (send null to use the default)")
    if len(name) > MAX_DISPLAY_NAME:
        raise ValueError(f"at most {MAX_DISPLAY_NAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise ValueError("must not contain control or invisible formatting characters")
    return name


def decode_image(value: object, purpose: ImagePurpose) -> CheckedImage:
    if not isinstance(value, str):
        raise ImageError("must be the image's bytes in base64 (or null to remove it)")
    text = value.strip()
    if text.startswith("data:"):
        header, sep, text = text.partition(",")
        if not sep or not header.endswith(";base64"):
            raise ImageError("a data: URL must be base64-encoded (data:image/png;base64,...)")
    limit = RULES[purpose].max_bytes
    if len(text) > (limit + 2) // 3 * 4 + 8:
        raise ImageError(f"the {purpose} is larger than {limit:,} bytes")
    try:
        data = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError("is not valid base64") from exc
    return check_brand_image(data, purpose)


def check_branding_change(given: dict[str, Any], *, allowed: tuple[str, ...]) -> BrandingChange:
    """Check every field of `given` that is in `allowed`; the change carries all violations found."""
    change = BrandingChange()
    for name in given:
        if name not in allowed:
            change.violations.append(FieldViolation(name, "unknown field"))
    for name in allowed:
        if name not in given:
            continue
        value = given[name]
        if value is None:
            setattr(change, name, None)
            continue
        try:
            if name == "display_name":
                change.display_name = check_display_name(value)
            elif name == "accent_color":
                change.accent_color = parse_color(value)
            else:
                setattr(change, name, decode_image(value, ImagePurpose(name)))
        except (ValueError, ColorError, ImageError) as exc:
            change.violations.append(FieldViolation(name, str(exc)))
    return change
