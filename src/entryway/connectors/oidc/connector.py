"""The OIDC connector's start of a login: an authorization request with its own state, nonce and PKCE
challenge, the state bound to the auth request (so the callback finds exactly one login, on one connection).
"""

from __future__ import annotations

from starlette.responses import Response

from entryway.connectors.oidc import binding, client
from entryway.connectors.oidc.discovery import ProviderConfig, provider_config
from entryway.connectors.oidc.fetch import FetchError
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest
from entryway.web.redirects import no_store_redirect


def allow_http(rt: Runtime, env: Environment) -> bool:
    return env.is_development or rt.settings.allow_private_fetch


def load_provider(rt: Runtime, env: Environment, connection: SsoConnection) -> ProviderConfig:
    try:
        return provider_config(rt, connection, allow_http=allow_http(rt, env))
    except FetchError as exc:
        raise LoginError(
            "server_error",
            f"The IdP's OpenID configuration could not be read: {exc.message}",
            {**exc.diagnosis, "connection_id": connection.id},
        ) from exc


class OidcConnector:
    start_may_fetch = True  # the IdP's discovery document, when it is not cached

    def new_upstream_id(self) -> str:
        return binding.new_state()

    def start_login(self, rt: Runtime, env: Environment, connection: SsoConnection, request: AuthRequest) -> Response:
        provider = load_provider(rt, env, connection)
        state = request.upstream_request_id
        assert state is not None  # stored with the auth request (new_upstream_id)
        pkce = connection.oidc_config.get("pkce_enabled", True) is not False
        url = client.authorization_url(
            provider,
            connection.oidc_config,
            callback=client.connection_redirect_uri(connection, env),
            state=state,
            nonce=binding.nonce_for(rt, state),
            code_challenge=binding.challenge_for(binding.verifier_for(rt, state)) if pkce else None,
            login_hint=request.login_hint,
        )
        return no_store_redirect(url)
