"""IdP-initiated login (CONTRACT §3.4): an unsolicited assertion never yields a code. When the connection
allows it, the browser goes to the app's initiate-login URL with a short-lived signed JWT naming the
organization, connection and user, and the app starts a normal, SP-initiated login from it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from entryway.connectors.saml.replay import remember_assertion, replayed
from entryway.connectors.saml.response import VerifiedAssertion
from entryway.model.connections import SsoConnection
from entryway.model.environments import RedirectKind
from entryway.model.errors import LoginError
from entryway.model.profile import Profile
from entryway.oidc_provider import signing
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.environments import Environment, default_redirect_uri
from entryway.store.after_commit import transaction
from entryway.web.urls import with_query

TOKEN_TTL = timedelta(seconds=300)


def ensure_allowed(connection: SsoConnection) -> None:
    if connection.saml_config.get("allow_idp_initiated_login") is not True:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The IdP sent an unsolicited response, and this connection does not allow IdP-initiated login",
            "a response to a login request (InResponseTo)",
            "an unsolicited response",
            connection_id=connection.id,
        )


def idp_initiated_redirect(
    rt: Runtime,
    env: Environment,
    connection: SsoConnection,
    assertion: VerifiedAssertion,
    profile: Profile,
    relay_state: str | None,
    client_ip: str | None,
) -> str:
    ensure_allowed(connection)
    target = default_redirect_uri(rt, env.id, RedirectKind.INITIATE_LOGIN) or default_redirect_uri(
        rt, env.id, RedirectKind.CALLBACK
    )
    if target is None:
        raise LoginError.wanted_got(
            "invalid_redirect_uri",
            "IdP-initiated login needs an initiate-login URL (or a callback URL) registered for the environment",
            "an initiate-login or callback URL",
            "none registered",
        )
    now = rt.clock.now()
    claims: dict[str, Any] = {
        "iss": env.url,
        "organization_id": connection.organization_id,
        "connection_id": connection.id,
        "login_hint": profile.email,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + TOKEN_TTL).timestamp()),
    }
    if relay_state:
        claims["relay_state"] = relay_state
    token = signing.sign(rt, env, claims)
    try:
        with transaction(rt.engine) as db:
            remember_assertion(db, assertion.assertion_id, connection.id, assertion.retain_until)
            auth_log.record(
                rt,
                db,
                environment_id=env.id,
                # The app still has to start a login with the token it is handed: that login's own steps
                # follow, so this one is not yet a completed login.
                status=auth_log.PENDING,
                step="idp_initiated",
                organization_id=connection.organization_id,
                connection_id=connection.id,
                email=profile.email,
                client_ip=client_ip,
            )
    except IntegrityError as exc:
        raise replayed(connection.id) from exc
    return with_query(target, {"idp_initiated_login": token})
