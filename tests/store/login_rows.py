"""Rows of the login path's tables, for the store tests: one builder per table (each row's key given), the
login-path insert statements with their tables, and a pending auth request and a login's write batch as the ACS
sends it (store/write_batch.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import insert

from entryway.connectors.saml import login_sessions, replay
from entryway.events import outbox
from entryway.runtime import Runtime
from entryway.services import auth_log, logins
from entryway.store.tables import auth_codes, auth_events, auth_requests, events, saml_replay, saml_sessions
from entryway.store.write_batch import WriteBatch

NOW = datetime(2026, 11, 27, 21, 30, 15, 123456, tzinfo=UTC)


def request_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(
        id=key, environment_id=env_id, client_id="cli_1", redirect_uri="https://app.example/cb", scope="openid email",
        state="st-é", nonce=None, code_challenge="x" * 43, code_challenge_method="S256", connection_id="con_1",
        organization_id="org_1", login_hint=None, upstream_request_id="up-" + key, status="pending",
        create_time=NOW, expire_time=NOW + timedelta(minutes=10),
    )  # fmt: skip


def code_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(
        code_hash=key, auth_request_id="req_1", environment_id=env_id, client_id="cli_1",
        redirect_uri="https://app.example/cb", nonce="n-1", code_challenge=None, scope="openid",
        session_id="ses_" + key, connection_id="con_1", organization_id="org_1",
        profile={"email": "zoé@example.com", "groups": ["a", "b"], "raw": {"n": 1, "f": 1.5, "t": True, "z": None}},
        create_time=NOW, expire_time=NOW + timedelta(minutes=1), used_time=None, issued_jti=None,
    )  # fmt: skip


def auth_event_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(
        id=key, environment_id=env_id, auth_request_id=None, status="FAILED", step="callback", error_code="x",
        message="Ünïcode \"quoted\"", diagnosis={"wanted": "a", "got": ["b", 2, False]}, organization_id=None,
        connection_id="con_1", email="a@b.c", client_ip="::1", create_time=NOW,
    )  # fmt: skip


def event_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(
        id=key, environment_id=env_id, organization_id=None, type="sso.login_succeeded", object="login",
        data={"time": "2026-11-27T21:30:15Z", "nested": {"list": [1, None]}}, occurred_at=NOW,
    )  # fmt: skip


def replay_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(assertion_id=key, connection_id="con_1", expire_time=NOW + timedelta(seconds=1))


def session_row(key: str, env_id: str) -> dict[str, Any]:
    return dict(
        session_id=key, environment_id=env_id, connection_id="con_1", name_id="user@example.com",
        name_id_format=None, name_qualifier="q", sp_name_qualifier=None, session_index="_idx",
        create_time=NOW, expire_time=NOW + timedelta(hours=8), ended_time=NOW + timedelta(hours=1),
    )  # fmt: skip


# (the statement the login path runs, its table, how to make a row with a given primary key)
INSERTS = [
    (logins._INSERT_REQUEST, auth_requests, request_row),
    (logins._INSERT_CODE, auth_codes, code_row),
    (auth_log._INSERT_EVENT, auth_events, auth_event_row),
    (outbox._INSERT_EVENT, events, event_row),
    (replay._REMEMBER, saml_replay, replay_row),
    (login_sessions._INSERT_SESSION, saml_sessions, session_row),
]


def pending_request(rt: Runtime, env_id: str, key: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(insert(auth_requests), request_row(key, env_id))


def login_batch(env_id: str, request_id: str, n: str, stored: list[str] | None = None) -> WriteBatch:
    """As the ACS sends it: the replay record, the guard on the pending request, the code and its log row. Each
    row's key is appended to `stored` (when given) once the row is stored and committed."""

    def on_stored(key: str) -> Callable[[], None] | None:
        return None if stored is None else partial(stored.append, key)

    batch = WriteBatch()
    batch.insert(replay._REMEMBER, replay_row("assertion-" + n, env_id), on_stored("assertion-" + n))
    batch.guard(logins._COMPLETE_REQUEST, {"request_id": request_id})
    code = {**code_row("code-" + n, env_id), "auth_request_id": request_id}
    batch.insert(logins._INSERT_CODE, code, on_stored("code-" + n))
    batch.insert(auth_log._INSERT_EVENT, auth_event_row("event-" + n, env_id), on_stored("event-" + n))
    return batch
