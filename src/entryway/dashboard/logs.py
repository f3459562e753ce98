"""The auth log page: filters, a chart of completed logins and failures by error code, the events, and one
login's every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from entryway.dashboard import chart
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.services import auth_log
from entryway.services.auth_log_search import LogFilter, search, timeline
from entryway.web.requests import runtime

router = APIRouter()
ROWS = 50
# Period -> (length, slices, label format)
PERIODS = {
    "1h": (timedelta(hours=1), 12, "%H:%M"),
    "24h": (timedelta(hours=24), 24, "%H:%M"),
    "7d": (timedelta(days=7), 28, "%m-%d %H"),
    "30d": (timedelta(days=30), 30, "%m-%d"),
}


def _before(text: str | None) -> tuple[datetime, str] | None:
    if not text:
        return None
    stamp, _, event_id = text.partition("|")
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC), event_id) if event_id else None


@router.get("/dashboard/logs")
def logs_page(
    request: Request,
    period: str = "24h",
    status: str = "",
    organization_id: str = "",
    connection_id: str = "",
    email: str = "",
    error_code: str = "",
    before: str | None = None,
    owner: Owner = Depends(signed_in),
) -> Response:
    rt = runtime(request)
    env = owner.live.env
    problems: list[str] = []
    if period not in PERIODS:
        problems.append(f"The period must be one of {', '.join(PERIODS)}; showing the last 24 hours.")
        period = "24h"
    wanted_status = status.upper()
    if wanted_status and wanted_status not in auth_log.STATUSES:
        problems.append(f"The status must be one of {', '.join(auth_log.STATUSES)}; showing every status.")
        wanted_status = ""
    length, slices, label_format = PERIODS[period]
    now = rt.clock.now()
    start = now - length
    flt = LogFilter(
        env.id,
        wanted_status or None,
        organization_id.strip()[:64] or None,
        email.strip()[:320] or None,
        start,
        None,
        connection_id=connection_id.strip()[:64] or None,
        error_code=error_code.strip()[:64] or None,
    )
    chart_filter = LogFilter(env.id, None, flt.organization_id, flt.email, connection_id=flt.connection_id)
    with rt.engine.connect() as conn:
        buckets = timeline(conn, chart_filter, start=start, end=now, buckets=slices)
        rows = search(conn, flt, before=_before(before), limit=ROWS + 1)
    events = [auth_log.event_of(r) for r in rows[:ROWS]]
    more = len(rows) > ROWS
    next_before = f"{events[-1].create_time.isoformat()}|{events[-1].id}" if more else None
    filters = {
        "period": period,
        "status": wanted_status,
        "organization_id": organization_id,
        "connection_id": connection_id,
        "email": email,
        "error_code": error_code,
    }
    return owner_page(
        owner,
        "dashboard/logs.html",
        "logs",
        {
            "filters": filters,
            "periods": list(PERIODS),
            "statuses": auth_log.STATUSES,
            "chart": chart.build(buckets, label_format),
            "events": events,
            "next_before": next_before,
        },
        error=" ".join(problems) or None,
    )


@router.get("/dashboard/logs/{event_id}")
def event_page(request: Request, event_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    env = owner.live.env
    with rt.engine.connect() as conn:
        event = auth_log.get_event(conn, event_id[:64], env.id)
        steps = auth_log.request_events(conn, env.id, event.auth_request_id) if event and event.auth_request_id else []
    if event is None:
        return owner_page(
            owner,
            "dashboard/event.html",
            "logs",
            {"event": None, "steps": []},
            status=404,
            error=f"No auth log event {event_id[:64]} in this environment (it may be older than the retention period).",
        )
    return owner_page(owner, "dashboard/event.html", "logs", {"event": event, "steps": steps or [event]})
