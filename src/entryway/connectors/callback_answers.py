"""What an IdP's callback (the SAML ACS, the OIDC redirect URI) answers the browser when the login failed.

Both callbacks end a failed login the same way, so a failure reads the same whichever protocol the connection speaks:
recorded with its diagnosis, then sent back to the app when the failed login names one, otherwise shown on the
branded error page with its code and err_ reference.
"""

from __future__ import annotations

from starlette.responses import Response

from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest
from entryway.web.pages import error_page
from entryway.web.redirects import no_store_redirect


def failed_login(
    rt: Runtime,
    env: Environment,
    error: LoginError,
    *,
    request: AuthRequest | None,
    connection: SsoConnection | None,
    client_ip: str | None,
) -> Response:
    reference, app_url = logins.fail_login(
        rt, env.id, error, step="callback", request=request, connection=connection, client_ip=client_ip
    )
    if app_url is not None:
        return no_store_redirect(app_url)
    return error_page(
        "Sign-in failed",
        error.message,
        code=error.code,
        reference=reference,
        hint="Start the sign-in again from the application. If it keeps failing, give your administrator "
        "the reference above.",
        organization_id=connection.organization_id if connection is not None else None,
    )
