"""SP-initiated single logout (SAML profiles §4.4): when the app logs out a user whose login came through a
SAML connection with an SLO URL, Entryway ends the recorded session and sends the IdP a signed LogoutRequest
naming it; the IdP's LogoutResponse, at the SP SLO endpoint, finishes the app's logout.

The app's post-logout URL and state never travel through the IdP: they wait in a row keyed by the
LogoutRequest's ID (also the RelayState), which the LogoutResponse's signed InResponseTo must name, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from starlette.responses import Response

from entryway.connectors.saml import login_sessions, slo_binding
from entryway.connectors.saml.logout_messages import REQUEST_LIFETIME, build_logout_request, read_logout_response
from entryway.connectors.saml.sp_key import signing_key
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.connections import find_connection
from entryway.services.environments import Environment
from entryway.store.after_commit import transaction
from entryway.store.tables import saml_logouts

log = logging.getLogger("entryway.saml.logout")


@dataclass(frozen=True)
class FinishedLogout:
    target: str | None  # the app's registered post-logout URL (checked when the logout started)
    state: str | None


def idp_slo_endpoint(connection: SsoConnection) -> tuple[str, str] | None:
    """The IdP's SLO URL and the binding to reach it, or None when the connection has none."""
    url = connection.saml_config.get("idp_slo_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    binding = connection.saml_config.get("idp_slo_request_binding") or "HTTP_REDIRECT"
    return url, "HTTP_POST" if binding == "HTTP_POST" else "HTTP_REDIRECT"


def start_logout(
    rt: Runtime, env: Environment, hint_claims: dict[str, Any], target: str | None, state: str | None
) -> Response | None:
    """The LogoutRequest to the IdP for the session the ID token hint names; None when there is none to end
    there (not a SAML login, no SLO URL, no recorded session, or a session that already ended)."""
    amr, session_id = hint_claims.get("amr"), hint_claims.get("sid")
    connection_id = amr[0] if isinstance(amr, list) and amr and isinstance(amr[0], str) else None
    if connection_id is None or not isinstance(session_id, str):
        return None
    now = rt.clock.now()
    with rt.engine.connect() as db:
        connection = find_connection(db, env.id, connection_id)
        if connection is None or connection.type is not ConnectionType.SAML:
            return None
        endpoint = idp_slo_endpoint(connection)
        session = login_sessions.live_session(db, env.id, connection.id, session_id, now) if endpoint else None
    if endpoint is None or session is None:
        return None
    try:
        key = signing_key(rt, env.id, now)
    except LookupError:
        log.warning("SAML logout skipped: environment %s has no SP key to sign it", env.id)
        return None
    url, binding = endpoint
    message = build_logout_request(connection, session, url, now)
    with transaction(rt.engine) as db:
        if not login_sessions.end_session(db, session.session_id, now, rt.settings.access_token_ttl_seconds):
            return None  # another logout of this session won the race; its LogoutRequest went to the IdP
        db.execute(
            insert(saml_logouts).values(
                id=message.id,
                environment_id=env.id,
                connection_id=connection.id,
                session_id=session.session_id,
                post_logout_redirect_uri=target,
                state=state,
                status="pending",
                create_time=now,
                expire_time=now + REQUEST_LIFETIME,
            )
        )
        auth_log.record(
            rt,
            db,
            environment_id=env.id,
            status=auth_log.SUCCESS,
            step="logout",
            organization_id=connection.organization_id,
            connection_id=connection.id,
            diagnosis={"sent": "LogoutRequest", "binding": binding, "session_id": session.session_id},
        )
    return slo_binding.send("SAMLRequest", message.xml, url, binding, message.id, key)


def _pending(db: Connection, env: Environment, connection: SsoConnection, request_id: str) -> Any:
    return db.execute(
        select(saml_logouts).where(
            saml_logouts.c.id == request_id,
            saml_logouts.c.environment_id == env.id,
            saml_logouts.c.connection_id == connection.id,
        )
    ).first()


def finish_logout(
    rt: Runtime,
    env: Environment,
    connection: SsoConnection,
    received: slo_binding.ReceivedMessage,
    slo_url: str,
    now: datetime,
) -> FinishedLogout:
    """Check the IdP's LogoutResponse against the pending logout it answers and complete that logout once."""
    response = read_logout_response(received.root, connection, slo_url)
    with rt.engine.connect() as db:
        row = _pending(db, env, connection, response.in_response_to)
    if row is None:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The LogoutResponse answers no logout Entryway started on this connection",
            "InResponseTo = the ID of a LogoutRequest Entryway sent",
            "an unknown InResponseTo",
            connection_id=connection.id,
        )
    try:
        if received.relay_state is not None and received.relay_state != row.id:
            raise LoginError.wanted_got(
                "invalid_saml_response",
                "The RelayState does not belong to the logout the response answers",
                "RelayState = the LogoutRequest's ID",
                "a different RelayState",
                connection_id=connection.id,
            )
        if row.status != "pending":
            raise LoginError.wanted_got(
                "invalid_saml_response",
                "This logout was already answered: the LogoutResponse is a replay",
                "the first LogoutResponse to the request",
                "a second one (replay)",
                connection_id=connection.id,
            )
        if row.expire_time <= now:
            raise LoginError.wanted_got(
                "response_expired",
                "The IdP answered the logout too late: sign out again",
                f"before {row.expire_time.isoformat()}",
                now.isoformat(),
                connection_id=connection.id,
            )
        response.raise_for_status()
    except LoginError:
        with rt.engine.begin() as db:
            db.execute(
                update(saml_logouts)
                .where(saml_logouts.c.id == row.id, saml_logouts.c.status == "pending")
                .values(status="failed")
            )
        raise
    with transaction(rt.engine) as db:
        done = db.execute(
            update(saml_logouts)
            .where(saml_logouts.c.id == row.id, saml_logouts.c.status == "pending")
            .values(status="completed")
        )
        if done.rowcount != 1:
            raise LoginError.wanted_got(
                "invalid_saml_response",
                "This logout was already answered: the LogoutResponse is a replay",
                "the first LogoutResponse to the request",
                "a second one (replay)",
                connection_id=connection.id,
            )
        auth_log.record(
            rt,
            db,
            environment_id=env.id,
            status=auth_log.SUCCESS,
            step="logout",
            organization_id=connection.organization_id,
            connection_id=connection.id,
            diagnosis={"received": "LogoutResponse", "binding": received.binding, "status": "Success"},
        )
    return FinishedLogout(row.post_logout_redirect_uri, row.state)
