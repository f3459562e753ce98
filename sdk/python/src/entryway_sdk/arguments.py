"""Argument checks run before any network call, so a mistake is a clear ArgumentError, never an HTTP round trip."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from entryway_sdk.errors import ArgumentError

MAX_PAGE_SIZE = 100


def text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name} must be a non-empty string, not {value!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ArgumentError(f"{name} must not contain control characters")
    return value


def optional_text(name: str, value: Any) -> str | None:
    return None if value is None else text(name, value)


def resource_id(name: str, value: Any, prefix: str) -> str:
    text(name, value)
    if not value.startswith(prefix) or len(value) == len(prefix) or "/" in value:
        raise ArgumentError(f"{name} must be an Entryway ID starting with {prefix!r}, not {value!r}")
    return str(value)


def optional_resource_id(name: str, value: Any, prefix: str) -> str | None:
    return None if value is None else resource_id(name, value, prefix)


def url(name: str, value: Any, *, schemes: tuple[str, ...] | None = ("http", "https")) -> str:
    text(name, value)
    parts = urlsplit(value)
    if not parts.scheme or (schemes is not None and parts.scheme not in schemes):
        wanted = " or ".join(schemes) if schemes else "a scheme"
        raise ArgumentError(f"{name} must be an absolute URL with {wanted}, not {value!r}")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise ArgumentError(f"{name} must name a host: {value!r}")
    return str(value)


def email(name: str, value: Any) -> str:
    text(name, value)
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or " " in value:
        raise ArgumentError(f"{name} must be an email address, not {value!r}")
    return str(value)


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True or False, not {value!r}")
    return value


def page_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ArgumentError(f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, not {value!r}")
    return value


def string_map(name: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ArgumentError(f"{name} must map strings to strings")
    return dict(value)


def one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ArgumentError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def plain_object(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ArgumentError(f"{name} must be a mapping with string keys")
    return dict(value)
