"""The auth log: GET /logs/authentication/requests, each event with its diagnosis."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.pagination import page_request
from entryway.api.transactions import reading
from entryway.model.errors import FieldViolation, invalid
from entryway.services.auth_log import STATUSES
from entryway.services.auth_log_search import LogFilter, count, search
from entryway.web.requests import runtime

router = APIRouter()
READ = require("logs:read")


def _time(name: str, text: str | None, problems: list[FieldViolation]) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        problems.append(FieldViolation(name, "must be an RFC 3339 timestamp (2025-01-31T12:00:00Z)"))
        return None
    if value.tzinfo is None:
        problems.append(FieldViolation(name, "must include a time zone (Z or +hh:mm)"))
        return None
    return value.astimezone(UTC)


def _cursor(key: str | None) -> tuple[datetime, str] | None:
    if key is None:
        return None
    stamp, _, event_id = key.partition("|")
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not event_id:
        raise invalid([FieldViolation("page_token", "is not a page token of this list (use next_page_token)")])
    return at, event_id


@router.get("/logs/authentication/requests")
def list_auth_requests(
    request: Request,
    status: str | None = None,
    organization_id: str | None = None,
    email: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    connection_id: str | None = None,
    error_code: str | None = None,
    auth_request_id: str | None = None,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    problems: list[FieldViolation] = []
    wanted_status = status.upper() if status else None
    if wanted_status and wanted_status not in STATUSES:
        problems.append(FieldViolation("status", f"must be one of {', '.join(STATUSES)}"))
    start = _time("start_time", start_time, problems)
    end = _time("end_time", end_time, problems)
    if start and end and start >= end:
        problems.append(FieldViolation("end_time", "must be later than start_time"))
    if problems:
        raise invalid(problems)
    page = page_request("auth_events", page_size, page_token)
    before = _cursor(page.after)
    flt = LogFilter(
        caller.environment.id,
        wanted_status,
        organization_id or None,
        email or None,
        start,
        end,
        connection_id=connection_id or None,
        error_code=error_code or None,
        auth_request_id=auth_request_id or None,
    )
    with reading(runtime(request)) as conn:
        rows = search(conn, flt, before=before, limit=page.fetch)
        total = count(conn, flt)
    return page.respond(
        "auth_requests", rows, view.auth_event, total, key=lambda row: f"{row.create_time.isoformat()}|{row.id}"
    )
