"""Reading the auth log (table auth_events): filtered pages, newest first, and counts over time for a chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Integer, Row, and_, cast, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from entryway.services.auth_log import FAILED, SUCCESS
from entryway.store.tables import auth_events


@dataclass(frozen=True)
class LogFilter:
    environment_id: str
    status: str | None = None
    organization_id: str | None = None
    email: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    connection_id: str | None = None
    error_code: str | None = None
    auth_request_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [auth_events.c.environment_id == self.environment_id]
        if self.status:
            where.append(auth_events.c.status == self.status)
        if self.organization_id:
            where.append(auth_events.c.organization_id == self.organization_id)
        if self.connection_id:
            where.append(auth_events.c.connection_id == self.connection_id)
        if self.error_code:
            where.append(auth_events.c.error_code == self.error_code)
        if self.auth_request_id:
            where.append(auth_events.c.auth_request_id == self.auth_request_id)
        if self.email:
            where.append(func.lower(auth_events.c.email) == self.email.lower())
        if self.start_time:
            where.append(auth_events.c.create_time >= self.start_time)
        if self.end_time:
            where.append(auth_events.c.create_time < self.end_time)
        return where


def search(
    conn: Connection, flt: LogFilter, *, before: tuple[datetime, str] | None, limit: int
) -> Sequence[Row[tuple[object, ...]]]:
    """Events matching `flt`, newest first, strictly older than `before` (the last event of the previous page)."""
    where = flt.conditions()
    if before is not None:
        at, event_id = before
        where.append(
            or_(auth_events.c.create_time < at, and_(auth_events.c.create_time == at, auth_events.c.id < event_id))
        )
    query = (
        select(auth_events)
        .where(*where)
        .order_by(auth_events.c.create_time.desc(), auth_events.c.id.desc())
        .limit(limit)
    )
    return conn.execute(query).all()


def count(conn: Connection, flt: LogFilter) -> int:
    return int(conn.execute(select(func.count()).select_from(auth_events).where(*flt.conditions())).scalar_one())


@dataclass
class Bucket:
    start: datetime
    logins: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def _epoch_seconds(conn: Connection) -> ColumnElement[int]:
    # Times are stored as naive UTC (store/types.py), so both expressions read them as UTC.
    if conn.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", auth_events.c.create_time)), Integer)
    return cast(func.strftime("%s", auth_events.c.create_time), Integer)


def timeline(conn: Connection, flt: LogFilter, *, start: datetime, end: datetime, buckets: int) -> list[Bucket]:
    """Completed logins (SUCCESS) and failures by error code in `buckets` equal slices of [start, end).

    Counted in SQL, grouped by slice, so the cost follows the number of slices, not the number of logins shown.
    """
    width = max(1, int((end - start).total_seconds()) // buckets)
    origin = int(start.timestamp())
    # Integer division needs the same operator on both dialects: floor() of a float quotient.
    slot_expr = cast(func.floor((_epoch_seconds(conn) - origin) * 1.0 / width), Integer).label("slot")
    where = [
        *flt.conditions(),
        auth_events.c.create_time >= start,
        auth_events.c.create_time < end,
        auth_events.c.status.in_((SUCCESS, FAILED)),
    ]
    rows = conn.execute(
        select(slot_expr, auth_events.c.status, auth_events.c.error_code, func.count().label("n"))
        .where(*where)
        .group_by(slot_expr, auth_events.c.status, auth_events.c.error_code)
    ).all()
    result = [Bucket(start.astimezone(UTC) + timedelta(seconds=i * width)) for i in range(buckets)]
    for row in rows:
        index = min(max(int(row.slot), 0), buckets - 1)
        if row.status == SUCCESS:
            result[index].logins += int(row.n)
        else:
            code = row.error_code or "unknown"
            result[index].failures[code] = result[index].failures.get(code, 0) + int(row.n)
    return result
