"""The SP single logout endpoint (CONTRACT §4, `{env_url}/sso/v1/saml/{connection_id}/slo`), both bindings:
a LogoutResponse finishes a logout Entryway started (then the browser goes to the app's post-logout URL), a
LogoutRequest is the IdP ending a session (answered with a signed LogoutResponse to the IdP).

Every failure is recorded in the auth log with its diagnosis and shown as an error page with its code and
reference; a message that fails a check changes nothing (no session ended, no logout completed).
"""

from __future__ import annotations

from starlette.responses import Response

from entryway.connectors.saml import idp_logout, slo_binding, sp_logout
from entryway.connectors.saml.callback import load_connection, parse_form
from entryway.connectors.saml.certificates import connection_certificates
from entryway.model.errors import LoginError
from entryway.oidc_provider.logout import finish_app_logout
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.connections import sp_slo_url
from entryway.services.environments import Environment
from entryway.web.pages import error_page


def single_logout(
    rt: Runtime,
    env: Environment,
    connection_id: str,
    *,
    raw_query: str | None,
    body: bytes | None,
    content_type: str | None,
    client_ip: str | None,
) -> Response:
    """Handle one GET (raw_query, Redirect binding) or POST (body, POST binding). Never raises for any input."""
    connection = load_connection(rt, env, connection_id)
    try:
        if connection is None:
            raise LoginError.wanted_got(
                "invalid_connection_id",
                "This SLO URL names no SAML connection of this environment",
                "a SAML connection of " + env.id,
                connection_id,
            )
        # Logout is served for a disabled connection too: ending a session never grants anything.
        certificates = connection_certificates(rt, connection)
        allow_sha1 = connection.saml_config.get("allow_sha1") is True
        now = rt.clock.now()
        if raw_query is not None:
            received = slo_binding.receive_redirect(raw_query, certificates, allow_sha1=allow_sha1)
        else:
            form = parse_form(body, content_type)
            received = slo_binding.receive_post(form, certificates, allow_sha1=allow_sha1, now=now)
        slo_url = sp_slo_url(env.url, connection)
        if received.kind == "SAMLRequest":
            return idp_logout.answer_logout_request(rt, env, connection, received, slo_url, now)
        finished = sp_logout.finish_logout(rt, env, connection, received, slo_url, now)
        return finish_app_logout(rt, env, finished.target, finished.state)
    except LoginError as error:
        reference, _ = logins.fail_login(rt, env.id, error, step="logout", connection=connection, client_ip=client_ip)
        return error_page(
            "Sign-out could not be completed",
            error.message,
            code=error.code,
            reference=reference,
            hint="You are signed out of the application. Your identity provider may still have a session: sign "
            "out there as well. If this keeps happening, give your administrator the reference above.",
        )
