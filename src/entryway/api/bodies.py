"""Request bodies: at most 64 KiB of JSON holding one object, validated against a pydantic model.

FastAPI's own body handling answers 422 for invalid JSON and has no size limit; reading the body here gives
the contract's 400 (every violated field named) and 413, and nothing is parsed past the limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from entryway.model.errors import ApiError, FieldViolation, invalid

MAX_BODY_BYTES = 64 * 1024

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    """Base of every request model: unknown fields are errors, and JSON types are taken as they are."""

    model_config = ConfigDict(extra="forbid", strict=True)


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _describe(error: dict[str, Any]) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    return str(error.get("msg", "is not valid"))


def violations_of(exc: ValidationError) -> list[FieldViolation]:
    return [FieldViolation(field_path(tuple(e["loc"])), _describe(dict(e))) for e in exc.errors()]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"The request body is larger than {limit // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"The request body is larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, f"The request body must be application/json, not {media}")


def parse_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(
            [FieldViolation("body", f"is not valid JSON: {exc}")], "The request body is not valid JSON"
        ) from exc
    if not isinstance(data, dict):
        raise invalid([FieldViolation("body", "must be a JSON object")], "The request body must be a JSON object")
    return data


def nul_violations(value: Any, path: tuple[int | str, ...] = ()) -> list[FieldViolation]:
    """Strings holding U+0000, which PostgreSQL text cannot store: refused up front rather than failing there."""
    if isinstance(value, str):
        return [FieldViolation(field_path(path), "must not contain the NUL character")] if "\x00" in value else []
    if isinstance(value, dict):
        found = [
            v
            for key in value
            if "\x00" in key
            for v in [FieldViolation(field_path((*path, key)), "has a NUL in its name")]
        ]
        return found + [v for key, item in value.items() for v in nul_violations(item, (*path, key))]
    if isinstance(value, list):
        return [v for index, item in enumerate(value) for v in nul_violations(item, (*path, index))]
    return []


def validate(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(violations_of(exc)) from exc


async def _body(request: Request, model: type[M], optional: bool, limit: int = MAX_BODY_BYTES) -> M | None:
    raw = await read_body(request, limit)
    if not raw.strip():
        if optional:
            return None
        raise invalid([FieldViolation("body", "a JSON object is required")], "The request needs a JSON body")
    _check_content_type(request)
    problems = nul_violations(parse_object(raw))
    if problems:
        raise invalid(problems)
    return validate(model, raw)


def json_body(model: type[M], *, max_bytes: int = MAX_BODY_BYTES) -> Callable[[Request], Awaitable[M]]:
    """A FastAPI dependency giving the validated body (of at most `max_bytes`: 64 KiB unless a call needs more)."""

    async def dependency(request: Request) -> M:
        body = await _body(request, model, optional=False, limit=max_bytes)
        assert body is not None
        return body

    dependency.body_model = model  # type: ignore[attr-defined]  # read by api/openapi.py
    dependency.body_required = True  # type: ignore[attr-defined]
    return dependency


def optional_json_body(model: type[M]) -> Callable[[Request], Awaitable[M | None]]:
    """Like `json_body`, but an empty body gives None (for calls whose every field is optional)."""

    async def dependency(request: Request) -> M | None:
        return await _body(request, model, optional=True)

    dependency.body_model = model  # type: ignore[attr-defined]  # read by api/openapi.py
    dependency.body_required = False  # type: ignore[attr-defined]
    return dependency
