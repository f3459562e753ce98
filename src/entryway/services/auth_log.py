"""The auth log: every login step is recorded with the status the login reached and, on a failure, a
diagnosis a person can act on.

A login moves INITIATED (authorize accepted, the browser sent to the IdP) -> PENDING (the IdP's response
accepted, a code issued to the app) -> SUCCESS (the app exchanged the code for tokens); any step can end it
FAILED. Each step appends one row, written in the transaction the step already has, so the log costs one
insert per step and never disagrees with what the step did.

`entryway_login_events_total` counts a step once its row is committed, and never a row that was not stored (a
redemption that lost a race, a replayed assertion, a rolled-back transaction): the counter and the log agree. A
row written on a connection therefore needs the transaction opened by `store.after_commit.transaction`.

The diagnosis holds wanted/got detail about configuration (an audience, an issuer, a certificate
fingerprint) and never secrets, tokens, codes, raw assertions or attribute values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, insert, select

from entryway.events.outbox import emit_event
from entryway.ids import new_id
from entryway.model.timestamps import rfc3339
from entryway.runtime import Runtime
from entryway.store.batched_delete import delete_in_batches
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import auth_events
from entryway.store.write_batch import CountedWrites, insert_row

INITIATED = "INITIATED"
PENDING = "PENDING"
SUCCESS = "SUCCESS"
FAILED = "FAILED"
STATUSES = (INITIATED, PENDING, SUCCESS, FAILED)

PURGE_BATCH = 5000

# Built once and run without SQLAlchemy's per-execution work (store/hot_statements.py): one row every login step.
_INSERT_EVENT = HotStatement(insert(auth_events))


@dataclass(frozen=True)
class AuthEvent:
    id: str
    environment_id: str
    auth_request_id: str | None
    status: str
    step: str
    error_code: str | None
    message: str | None
    diagnosis: dict[str, Any]
    organization_id: str | None
    connection_id: str | None
    email: str | None
    client_ip: str | None
    create_time: datetime


def event_of(row: Any) -> AuthEvent:
    r = row._mapping
    return AuthEvent(
        r["id"],
        r["environment_id"],
        r["auth_request_id"],
        r["status"],
        r["step"],
        r["error_code"],
        r["message"],
        r["diagnosis"] or {},
        r["organization_id"],
        r["connection_id"],
        r["email"],
        r["client_ip"],
        r["create_time"],
    )


def record(
    rt: Runtime,
    conn: CountedWrites,
    *,
    environment_id: str,
    status: str,
    step: str,
    auth_request_id: str | None = None,
    error_code: str | None = None,
    message: str | None = None,
    diagnosis: dict[str, Any] | None = None,
    organization_id: str | None = None,
    connection_id: str | None = None,
    email: str | None = None,
    client_ip: str | None = None,
) -> str:
    if status not in STATUSES:
        raise ValueError(f"auth log status {status!r} is not one of {STATUSES}")
    # A failure's id is the err_ reference people quote from an error page or an error_description.
    event_id = new_id("err" if status == FAILED else "evt")
    now = rt.clock.now()
    insert_row(
        conn,
        _INSERT_EVENT,
        dict(
            id=event_id,
            environment_id=environment_id,
            auth_request_id=auth_request_id,
            status=status,
            step=step,
            error_code=error_code,
            message=message,
            diagnosis=diagnosis or {},
            organization_id=organization_id,
            connection_id=connection_id,
            email=email[:320] if email else None,
            client_ip=client_ip,
            create_time=now,
        ),
        partial(rt.metrics.login_event, status, error_code, step),
    )
    event_type = _LOGIN_EVENTS.get((status, step)) or (
        "sso.login_failed" if status == FAILED and step not in _LOGOUT_STEPS else None
    )
    if event_type is not None:
        # The webhook says what the auth log says, in the same transaction: no event for a login not recorded.
        emit_event(
            conn,
            event_type,
            environment_id=environment_id,
            organization_id=organization_id,
            occurred_at=now,
            config=rt.config,
            data={
                "reference": event_id,
                "status": status,
                "step": step,
                "auth_request_id": auth_request_id,
                "connection_id": connection_id,
                "email": email,
                "error_code": error_code,
                "message": message,
                "diagnosis": diagnosis or {},
                "time": rfc3339(now),
            },
        )
    return event_id


# The steps that end a user's sign-in at the IdP successfully: the code issued to the app (PENDING until the app
# redeems it, which the webhook does not wait for) or the IdP-initiated hand-off.
_LOGIN_EVENTS = {
    (PENDING, "callback"): "sso.login_succeeded",
    (PENDING, "idp_initiated"): "sso.login_succeeded",
    # The back-channel of SAML IdP-initiated logout: which sessions (sid) the IdP ended.
    (SUCCESS, "idp_logout"): "sso.idp_logout",
}
# Single logout steps: a failed logout is not a failed login.
_LOGOUT_STEPS = frozenset({"logout", "idp_logout"})


def get_event(conn: Connection, event_id: str, environment_id: str | None = None) -> AuthEvent | None:
    query = select(auth_events).where(auth_events.c.id == event_id)
    if environment_id is not None:
        query = query.where(auth_events.c.environment_id == environment_id)
    row = conn.execute(query).first()
    return event_of(row) if row is not None else None


def request_events(conn: Connection, environment_id: str, auth_request_id: str) -> list[AuthEvent]:
    """Every step of one login, oldest first."""
    rows = conn.execute(
        select(auth_events)
        .where(auth_events.c.environment_id == environment_id, auth_events.c.auth_request_id == auth_request_id)
        .order_by(auth_events.c.create_time, auth_events.c.id)
    ).all()
    return [event_of(r) for r in rows]


def purge(rt: Runtime, environment_id: str, *, retention_days: int | None = None) -> int:
    """Delete this environment's events older than the retention period; return how many.

    Per environment, so the delete walks the (environment_id, create_time) index rather than the table. In
    batches of PURGE_BATCH, each committed on its own (store/batched_delete.py): a purge of millions of rows
    must not be one long transaction holding locks on the table every login step writes to.
    """
    days = retention_days if retention_days is not None else rt.settings.auth_log_retention_days
    cutoff = rt.clock.now() - timedelta(days=days)
    due = (auth_events.c.environment_id == environment_id) & (auth_events.c.create_time < cutoff)
    return delete_in_batches(rt.engine, auth_events, due, batch=PURGE_BATCH, order_by=auth_events.c.create_time)
