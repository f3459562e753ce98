"""Resource identifiers: a type prefix and a time-ordered random body, so ID order is creation order."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase

PREFIXES = frozenset(
    {"org", "conn", "dom", "env", "skc", "sec", "lnk", "evt", "ses", "err", "req", "key", "sid", "jti"}
)


def _b32(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    millis = int(time.time() * 1000)
    return f"{prefix}_{_b32(millis, 10)}{_b32(secrets.randbits(80), 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and 4 <= len(value) - len(prefix) - 1 <= 64
