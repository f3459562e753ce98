"""The auth log: every login step that succeeds or fails is recorded with a diagnosis a person can act on.

The diagnosis holds wanted/got detail about configuration (an audience, an issuer, a certificate
fingerprint) and never secrets, tokens, codes, raw assertions or attribute values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from entryway.events.outbox import emit_event
from entryway.events.payloads import timestamp
from entryway.ids import new_id
from entryway.runtime import Runtime
from entryway.store.tables import auth_events


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
    create_time: datetime


def record(
    rt: Runtime,
    conn: Connection,
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
    event_id = new_id("err" if status == "FAILURE" else "evt")
    now = rt.clock.now()
    conn.execute(
        insert(auth_events).values(
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
            email=email,
            client_ip=client_ip,
            create_time=now,
        )
    )
    rt.metrics.login_event(status, error_code, step)
    event_type = _LOGIN_EVENTS.get((status, step)) or (
        "sso.login_failed" if status == "FAILURE" and step not in _LOGOUT_STEPS else None
    )
    if event_type is not None:
        # The webhook says what the auth log says, in the same transaction: no event for a login not recorded.
        emit_event(
            conn,
            event_type,
            environment_id=environment_id,
            organization_id=organization_id,
            occurred_at=now,
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
                "time": timestamp(now),
            },
        )
    return event_id


# Successful steps that complete a login (the code issued to the app, or the IdP-initiated hand-off).
_LOGIN_EVENTS = {
    ("SUCCESS", "callback"): "sso.login_succeeded",
    ("SUCCESS", "idp_initiated"): "sso.login_succeeded",
    # The back-channel of SAML IdP-initiated logout: which sessions (sid) the IdP ended.
    ("SUCCESS", "idp_logout"): "sso.idp_logout",
}
# Single logout steps: a failed logout is not a failed login.
_LOGOUT_STEPS = frozenset({"logout", "idp_logout"})


def get_event(conn: Connection, event_id: str) -> AuthEvent | None:
    row = conn.execute(select(auth_events).where(auth_events.c.id == event_id)).first()
    if row is None:
        return None
    r = row._mapping
    return AuthEvent(
        r["id"],
        r["environment_id"],
        r["auth_request_id"],
        r["status"],
        r["step"],
        r["error_code"],
        r["message"],
        r["diagnosis"],
        r["organization_id"],
        r["connection_id"],
        r["email"],
        r["create_time"],
    )
