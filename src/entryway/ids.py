"""Resource identifiers: a type prefix and a time-ordered random body, so ID order is creation order."""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase

PREFIXES = frozenset(
    {
        "org",
        "conn",
        "dom",
        "env",
        "skc",
        "sec",
        "lnk",
        "evt",
        "ses",
        "err",
        "req",
        "key",
        "sid",
        "jti",
        "wh",
        "dlv",
        "dk",
        "own",
    }
)


def _b32(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def new_id(prefix: str) -> str:
    """Within one process IDs are strictly increasing, even several in one millisecond (as ULIDs do)."""
    global _last
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    with _lock:
        millis = int(time.time() * 1000)
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, randomness = last_millis, last_random + 1
        else:
            randomness = secrets.randbits(79)  # 79 bits leave room to count up within a millisecond
        _last = (millis, randomness)
    return f"{prefix}_{_b32(millis, 10)}{_b32(randomness, 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and 4 <= len(value) - len(prefix) - 1 <= 64
