"""IdP-initiated single logout (SAML profiles §4.4.3.3, §4.4.3.4): the IdP ends a user's session and tells
every SP. A signed LogoutRequest at the SP SLO endpoint ends the recorded SAML login sessions it names (and
revokes the access tokens they issued), and is answered with a signed LogoutResponse to the IdP's SLO URL.

The auth log records the sids of the ended logins, and that record goes out as the `sso.idp_logout` webhook
event: the app's only signal, since Entryway has no browser session of its own to end and the app's tokens are
verified offline. The request's ID is remembered (in the replay table every instance shares) so it ends
nothing twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from entryway.connectors.saml import login_sessions, slo_binding
from entryway.connectors.saml.logout_messages import build_logout_response, read_logout_request
from entryway.connectors.saml.replay import remember_assertion
from entryway.connectors.saml.sp_key import signing_key
from entryway.connectors.saml.sp_logout import idp_slo_endpoint
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.environments import Environment
from entryway.store.after_commit import transaction


def replay_key(request_id: str) -> str:
    # A separate key space from assertion IDs, of a bounded length whatever the IdP's ID looks like.
    return "logout:" + hashlib.sha256(request_id.encode()).hexdigest()


def answer_logout_request(
    rt: Runtime,
    env: Environment,
    connection: SsoConnection,
    received: slo_binding.ReceivedMessage,
    slo_url: str,
    now: datetime,
) -> Response:
    endpoint = idp_slo_endpoint(connection)
    if endpoint is None:
        raise LoginError.wanted_got(
            "invalid_saml_metadata",
            "The IdP sent a LogoutRequest, but the connection has no IdP SLO URL to answer it at: "
            "add the IdP's metadata or its single logout URL",
            "an http(s) idp_slo_url",
            "none",
            connection_id=connection.id,
        )
    request = read_logout_request(
        received.root, connection, slo_url, now, timedelta(seconds=rt.settings.clock_skew_seconds)
    )
    key = signing_key(rt, env.id, now)
    try:
        with transaction(rt.engine) as db:
            remember_assertion(db, replay_key(request.id), connection.id, request.retain_until)
            ended = login_sessions.end_sessions_named(
                db,
                connection_id=connection.id,
                name_id=request.name_id,
                session_indexes=request.session_indexes,
                now=now,
                access_token_ttl=rt.settings.access_token_ttl_seconds,
            )
            auth_log.record(
                rt,
                db,
                environment_id=env.id,
                status=auth_log.SUCCESS,
                step="idp_logout",
                organization_id=connection.organization_id,
                connection_id=connection.id,
                diagnosis={
                    "received": "LogoutRequest",
                    "binding": received.binding,
                    "session_indexes": len(request.session_indexes),
                    "sessions_ended": ended,
                },
            )
    except IntegrityError as exc:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "This LogoutRequest was already processed",
            "a LogoutRequest ID never seen before",
            "an ID that was already processed (replay)",
            connection_id=connection.id,
        ) from exc
    url, binding = endpoint
    # Success even when no session was found: the user is logged out of this SP either way (SAML core §3.7.3.2).
    answer = build_logout_response(connection, request.id, url, now)
    return slo_binding.send("SAMLResponse", answer.xml, url, binding, received.relay_state, key)
