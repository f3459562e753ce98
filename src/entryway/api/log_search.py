"""Searching the auth log (table auth_events), newest first, for GET /logs/authentication/requests.

(It sits beside the API because services/auth_log.py belongs to the login work; it could move there.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from entryway.store.tables import auth_events


@dataclass(frozen=True)
class LogFilter:
    environment_id: str
    status: str | None = None
    organization_id: str | None = None
    email: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [auth_events.c.environment_id == self.environment_id]
        if self.status:
            where.append(auth_events.c.status == self.status)
        if self.organization_id:
            where.append(auth_events.c.organization_id == self.organization_id)
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
