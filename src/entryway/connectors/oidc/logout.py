"""Ending the upstream session (OpenID Connect RP-Initiated Logout 1.0 §2) when the app logs a user out.

When the ID token hint names an OIDC connection whose IdP publishes an `end_session_endpoint`, the browser
goes there first, with the connection's client ID and, as `post_logout_redirect_uri`, the connection's logout
landing `{env_url}/sso/v1/oidc/{connection_id}/logout` (the IdP administrator registers it), and — when the
login's IdP ID token was kept (upstream_tokens.py) — that token as `id_token_hint`, which Okta requires and
which tells every IdP exactly which session to end. The app's own post-logout URL and state travel in the
upstream `state`, signed by the environment and short-lived, so the landing can finish the app's logout
without trusting anything the IdP echoes back.
"""

from __future__ import annotations

import logging
from typing import Any

from entryway.connectors.oidc.client import connection_base_url
from entryway.connectors.oidc.connector import load_provider
from entryway.connectors.oidc.upstream_tokens import take_id_token
from entryway.model.connections import ConnectionType
from entryway.model.errors import LoginError
from entryway.oidc_provider import signing
from entryway.runtime import Runtime
from entryway.services.connections import find_connection
from entryway.services.environments import Environment
from entryway.web.urls import with_query

log = logging.getLogger("entryway.oidc.logout")
AUDIENCE = "entryway:upstream-logout"
TTL_SECONDS = 600


def landing_uri(env_url: str, connection_id: str) -> str:
    return f"{env_url}/sso/v1/oidc/{connection_id}/logout"


def upstream_logout_url(
    rt: Runtime, env: Environment, hint_claims: dict[str, Any], target: str | None, state: str | None
) -> str | None:
    """The IdP's end-session URL for the session the hint names, or None when there is nothing to end there."""
    amr = hint_claims.get("amr")
    connection_id = amr[0] if isinstance(amr, list) and amr and isinstance(amr[0], str) else None
    if connection_id is None:
        return None
    with rt.engine.connect() as db:
        connection = find_connection(db, env.id, connection_id)
    if connection is None or connection.type is not ConnectionType.OIDC or not connection.enabled:
        return None
    try:
        provider = load_provider(rt, env, connection)
    except LoginError:
        # The app's logout must not fail because the IdP is unreachable: end the local part, say so in the log.
        log.warning("upstream logout skipped: the IdP configuration of %s could not be read", connection.id)
        return None
    if not provider.end_session_endpoint:
        return None
    now = int(rt.clock.now().timestamp())
    carried = signing.sign(
        rt,
        env,
        {"iss": env.url, "aud": AUDIENCE, "iat": now, "exp": now + TTL_SECONDS, "cid": connection.id}
        | {"target": target, "state": state},
        typ="logout+jwt",
    )
    params = {
        "client_id": str(connection.oidc_config.get("client_id", "")),
        "post_logout_redirect_uri": landing_uri(connection_base_url(connection, env), connection.id),
        "state": carried,
    }
    sid = hint_claims.get("sid")
    if isinstance(sid, str) and sid:
        kept = take_id_token(rt, env_id=env.id, connection_id=connection.id, session_id=sid)
        if kept is not None:
            params = {"id_token_hint": kept, **params}
    return with_query(provider.end_session_endpoint, params)


def returned_logout(
    rt: Runtime, env: Environment, connection_id: str, state: str | None
) -> tuple[str | None, str | None]:
    """The app's post-logout target and state carried through the IdP; raises signing.InvalidToken if forged."""
    if not state:
        raise signing.InvalidToken("no state")
    claims = signing.verify(rt, env, state, audience=AUDIENCE)
    if claims.get("cid") != connection_id:
        raise signing.InvalidToken("the state belongs to another connection")
    target, app_state = claims.get("target"), claims.get("state")
    return (target if isinstance(target, str) else None, app_state if isinstance(app_state, str) else None)
