"""Server-side browser sessions for Entryway's own pages (the admin portal, the developer dashboard), their CSRF
tokens, and the audit log of what was done in them.

A session is a row in `web_sessions`; the browser holds only a random 256-bit token in a cookie, and the row
holds the token's SHA-256, so a database leak yields no usable session. Each session has:

- `kind`: `portal` (a customer IT admin, opened by a portal link) or `dashboard` (a developer);
- `environment_id` and `subject`: what it may act on (the organization for a portal session, the developer
  for a dashboard session) — every use checks the environment the request is routed to;
- an absolute expiry (`expire_time`) and an idle timeout (`idle_seconds` after `last_seen_time`);
- `opened_by`: what opened it (a portal link ID), so revoking that ends the sessions it opened.

API (all storage calls take an open SQLAlchemy connection; the caller owns the transaction):

- `open_session(rt, conn, kind=, environment_id=, subject=, lifetime=, idle=, opened_by=, client_ip=)`
  -> `(WebSession, token)`: the token goes into the cookie (see `web/session_cookies.py`) and nowhere else.
- `find_session(rt, conn, token, kind=, environment_id=)` -> `WebSession | None`: None when unknown, ended,
  idle or past its absolute expiry, or of another kind or environment; a live session's `last_seen_time` is
  moved on (at most once a minute, so reading pages does not write on every request).
- `end_session(rt, conn, session_id)`, `end_sessions_opened_by(rt, conn, opened_by)`: sign out / revoke.
- `csrf_token(token, session)` -> the CSRF token for forms of this session (HMAC-SHA256 keyed by the session
  token: bound to the session, never stored, different for every session); `csrf_ok(token, session, sent)`
  compares in constant time.
- `audit(rt, conn, session, action, target=None, detail=None, client_ip=None)` -> `evt_…`: one row in
  `web_audit_events` per action taken in a session; `detail` holds identifiers and settings, never secrets
  or attribute values. `audit_events(conn, environment_id, kind=, subject=, target=, action=, limit=)`
  reads them back, newest first; `find_audit_event(conn, event_id)` reads one.

The HTTP side — cookie attributes, the FastAPI dependency that loads the session and checks CSRF on every
POST — is `entryway.web.session_cookies`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from entryway.ids import new_id
from entryway.runtime import Runtime
from entryway.store.tables import web_audit_events, web_sessions

# Moving last_seen_time on every page view would write on every read; a minute is far below any idle timeout.
TOUCH_EVERY = timedelta(seconds=60)


class SessionKind(StrEnum):
    PORTAL = "portal"
    DASHBOARD = "dashboard"


@dataclass(frozen=True)
class WebSession:
    id: str
    kind: SessionKind
    environment_id: str
    subject: str
    opened_by: str | None
    create_time: datetime
    last_seen_time: datetime
    expire_time: datetime
    idle_seconds: int

    def ends_at(self) -> datetime:
        """When the session ends if nothing more happens in it: the idle limit or the absolute expiry."""
        return min(self.expire_time, self.last_seen_time + timedelta(seconds=self.idle_seconds))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _from_row(row: Any) -> WebSession:
    r = row._mapping
    return WebSession(
        r["id"],
        SessionKind(r["kind"]),
        r["environment_id"],
        r["subject"],
        r["opened_by"],
        r["create_time"],
        r["last_seen_time"],
        r["expire_time"],
        r["idle_seconds"],
    )


def open_session(
    rt: Runtime,
    conn: Connection,
    *,
    kind: SessionKind,
    environment_id: str,
    subject: str,
    lifetime: timedelta,
    idle: timedelta,
    opened_by: str | None = None,
    client_ip: str | None = None,
) -> tuple[WebSession, str]:
    """A new session and its token (for the cookie only)."""
    if lifetime <= timedelta(0) or idle <= timedelta(0):
        raise ValueError("a session needs a positive lifetime and idle timeout")
    now = rt.clock.now()
    token = secrets.token_urlsafe(32)
    session = WebSession(
        new_id("ses"), kind, environment_id, subject, opened_by, now, now, now + lifetime, int(idle.total_seconds())
    )
    conn.execute(
        insert(web_sessions).values(
            id=session.id,
            token_hash=hash_token(token),
            kind=kind.value,
            environment_id=environment_id,
            subject=subject,
            opened_by=opened_by,
            client_ip=client_ip,
            create_time=now,
            last_seen_time=now,
            expire_time=session.expire_time,
            idle_seconds=session.idle_seconds,
            end_time=None,
        )
    )
    return session, token


def find_session(
    rt: Runtime, conn: Connection, token: str | None, *, kind: SessionKind, environment_id: str
) -> WebSession | None:
    """The live session this cookie token names, or None (see the module docstring for every reason)."""
    if not token or len(token) > 128:
        return None
    row = conn.execute(select(web_sessions).where(web_sessions.c.token_hash == hash_token(token))).first()
    if row is None or row.end_time is not None:
        return None
    session = _from_row(row)
    if session.kind is not kind or session.environment_id != environment_id:
        return None
    now = rt.clock.now()
    if now >= session.ends_at():
        return None
    if now - session.last_seen_time >= TOUCH_EVERY:
        conn.execute(update(web_sessions).where(web_sessions.c.id == session.id).values(last_seen_time=now))
        session = WebSession(**{**session.__dict__, "last_seen_time": now})
    return session


def end_session(rt: Runtime, conn: Connection, session_id: str) -> None:
    conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id == session_id, web_sessions.c.end_time.is_(None))
        .values(end_time=rt.clock.now())
    )


def end_sessions_opened_by(rt: Runtime, conn: Connection, opened_by: str) -> int:
    """End every live session opened by `opened_by` (e.g. a revoked portal link); returns how many."""
    done = conn.execute(
        update(web_sessions)
        .where(web_sessions.c.opened_by == opened_by, web_sessions.c.end_time.is_(None))
        .values(end_time=rt.clock.now())
    )
    return int(done.rowcount or 0)


def csrf_token(token: str, session: WebSession) -> str:
    """The token forms of this session carry. Keyed by the session's secret, so it cannot be computed by anyone
    who does not hold the cookie, and it dies with the session."""
    mac = hmac.new(token.encode(), b"entryway-csrf:" + session.id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_ok(token: str, session: WebSession, sent: str | None) -> bool:
    if not sent:
        return False
    return hmac.compare_digest(csrf_token(token, session).encode(), sent.encode(errors="replace"))


@dataclass(frozen=True)
class AuditEvent:
    id: str
    environment_id: str
    session_id: str | None
    kind: str
    subject: str
    action: str
    target: str | None
    detail: dict[str, Any]
    client_ip: str | None
    create_time: datetime


def audit(
    rt: Runtime,
    conn: Connection,
    session: WebSession,
    action: str,
    *,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> str:
    """Record one action taken in a session (e.g. `connection.enabled`, target `conn_…`)."""
    event_id = new_id("evt")
    conn.execute(
        insert(web_audit_events).values(
            id=event_id,
            environment_id=session.environment_id,
            session_id=session.id,
            kind=session.kind.value,
            subject=session.subject,
            action=action,
            target=target,
            detail=detail or {},
            client_ip=client_ip,
            create_time=rt.clock.now(),
        )
    )
    return event_id


def audit_events(
    conn: Connection,
    environment_id: str,
    *,
    kind: SessionKind | None = None,
    subject: str | None = None,
    target: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The newest audit events first, filtered by any of kind, subject, target and action."""
    query = select(web_audit_events).where(web_audit_events.c.environment_id == environment_id)
    for column, value in (("kind", kind.value if kind else None), ("subject", subject), ("target", target)):
        if value is not None:
            query = query.where(web_audit_events.c[column] == value)
    if action is not None:
        query = query.where(web_audit_events.c.action == action)
    newest_first = query.order_by(web_audit_events.c.create_time.desc(), web_audit_events.c.id.desc())
    return [AuditEvent(**r._mapping) for r in conn.execute(newest_first.limit(limit))]


def find_audit_event(conn: Connection, event_id: str) -> AuditEvent | None:
    row = conn.execute(select(web_audit_events).where(web_audit_events.c.id == event_id)).first()
    return AuditEvent(**row._mapping) if row is not None else None
