"""The connector interface: every protocol starts a login and finishes it with a Profile or a LoginError."""

from __future__ import annotations

from typing import Protocol

from starlette.responses import Response

from entryway.model.connections import SsoConnection
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest


class Connector(Protocol):
    # Whether start_login may wait on the IdP's host (a discovery fetch): if so it never runs on the event loop
    # (web/step_runner.py).
    start_may_fetch: bool

    def new_upstream_id(self) -> str:
        """A fresh ID for the request sent to the IdP (SAML AuthnRequest ID, OIDC state), stored with the
        auth request when it is created, so /oauth/authorize writes once."""
        ...

    def start_login(self, rt: Runtime, env: Environment, connection: SsoConnection, request: AuthRequest) -> Response:
        """Send the browser to the IdP for this auth request (under the upstream ID stored with it)."""
        ...
