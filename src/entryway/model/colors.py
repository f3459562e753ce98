"""Brand colours: the accepted format, and WCAG 2.x contrast (to pick a readable foreground and warn early).

Only `#rgb` and `#rrggbb` are accepted: a colour lands inside a CSS custom property on every hosted page, so
the format is closed (no names, no functions, nothing that could carry `;` or `}` into the stylesheet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

WHITE = "#ffffff"
# The pages' body text colour: a dark foreground reads better than pure black on a light accent.
DARK = "#1d2330"
DEFAULT_ACCENT = "#3b5bdb"

# WCAG 2.1 SC 1.4.3 (text, AA) and SC 1.4.11 (non-text UI components and focus indicators).
TEXT_CONTRAST = 4.5
UI_CONTRAST = 3.0


class ColorError(ValueError):
    """Not a colour Entryway accepts; the message says what is."""


def parse_color(text: object) -> str:
    """The colour in its stored form, `#rrggbb` in lower case."""
    if not isinstance(text, str) or not _HEX.match(text.strip()):
        raise ColorError("must be a hex colour: #rrggbb or #rgb (for example #3b5bdb)")
    value = text.strip().lower()
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an `#rrggbb` colour (sRGB, linearised)."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), from 1 (identical) to 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def readable_foreground(accent: str) -> str:
    """White or the dark text colour, whichever contrasts more with the accent (button labels on the accent)."""
    return WHITE if contrast_ratio(accent, WHITE) >= contrast_ratio(accent, DARK) else DARK


@dataclass(frozen=True)
class ContrastWarning:
    field: str
    description: str
    ratio: float


def contrast_warnings(accent: str, *, field: str = "accent_color") -> list[ContrastWarning]:
    """What is hard to read with this accent. Warnings, not errors: the brand colour is the owner's call."""
    warnings = []
    fg = readable_foreground(accent)
    on_accent = contrast_ratio(accent, fg)
    if on_accent < TEXT_CONTRAST:
        warnings.append(
            ContrastWarning(
                field,
                f"button text on {accent} has a contrast ratio of {on_accent:.2f}:1 even in {fg}; "
                f"WCAG AA asks for {TEXT_CONTRAST}:1 — a darker or lighter accent reads better",
                round(on_accent, 2),
            )
        )
    on_page = contrast_ratio(accent, WHITE)
    if on_page < UI_CONTRAST:
        warnings.append(
            ContrastWarning(
                field,
                f"{accent} on the white page has a contrast ratio of {on_page:.2f}:1; the focus rings and "
                f"page border drawn in it need {UI_CONTRAST}:1 (WCAG 1.4.11) — choose a darker accent",
                round(on_page, 2),
            )
        )
    return warnings
