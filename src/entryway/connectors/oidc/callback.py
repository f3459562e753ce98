"""The OIDC redirect URI (CONTRACT §4): finish the login the `state` names, on the connection in the path.

Order matters: the state must name a pending login of this environment *and of this connection* (mix-up
defense) before anything the IdP sent is used; the RFC 9207 `iss` parameter, when present (or promised by
discovery), must be the connection's issuer; only then is the code exchanged and the ID token checked.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response

from entryway.connectors.callback_answers import failed_login
from entryway.connectors.oidc import binding, client
from entryway.connectors.oidc.attributes import map_profile, merge_userinfo
from entryway.connectors.oidc.connector import load_provider
from entryway.connectors.oidc.id_token import Expected, validate_id_token
from entryway.connectors.oidc.upstream_tokens import keep_id_token
from entryway.ids import new_id
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import LoginError
from entryway.oidc_provider.params import MalformedParameter, RepeatedParameter, first_repeated, single
from entryway.outbound import policy_for
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.connections import find_connection, oidc_client_secret
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest
from entryway.store.after_commit import transaction
from entryway.store.write_batch import WriteBatch
from entryway.web.redirects import no_store_redirect

MAX_PARAM = 4096
MAX_IDP_TEXT = 200


def _param(params: QueryParams, name: str) -> str | None:
    try:
        return single(params, name, max_length=MAX_PARAM)
    except (RepeatedParameter, MalformedParameter) as exc:
        raise LoginError("invalid_request", str(exc), {"parameter": name}) from exc


def _load(rt: Runtime, env: Environment, connection_id: str, state: str | None) -> tuple[SsoConnection, AuthRequest]:
    with rt.engine.connect() as db:
        connection = find_connection(db, env.id, connection_id)
        request = logins.find_by_upstream_request(db, state) if state else None
    if connection is None or connection.type is not ConnectionType.OIDC:
        raise LoginError.wanted_got(
            "invalid_connection_id",
            "This redirect URI names no OIDC connection of this environment",
            "an OIDC connection of " + env.id,
            connection_id[:64],
        )
    if request is None or request.environment_id != env.id:
        raise LoginError.wanted_got(
            "authentication_not_completed",
            "This sign-in answers no login Entryway started: start the sign-in again from the application",
            "the state of a login Entryway started",
            "an unknown state" if state else "no state",
            connection_id=connection.id,
        )
    if request.connection_id != connection.id:
        raise LoginError.wanted_got(
            "invalid_request",
            "The IdP answered through another connection than the login started on",
            request.connection_id,
            connection.id,
        )
    return connection, request


def _idp_error(params: QueryParams) -> LoginError:
    error = (_param(params, "error") or "")[:MAX_IDP_TEXT]
    description = (_param(params, "error_description") or "")[:MAX_IDP_TEXT]
    code = "access_denied" if error == "access_denied" else "authentication_not_completed"
    return LoginError(
        code, "The IdP did not sign the user in", {"idp_error": error, "idp_error_description": description}
    )


def _finish(
    rt: Runtime, env: Environment, connection: SsoConnection, request: AuthRequest, params: QueryParams
) -> tuple[dict[str, Any], str | None]:
    """The verified claims of this login (ID token merged with userinfo), and the IdP's ID token itself when
    the IdP has an end_session_endpoint to send it to at logout (otherwise there is no reason to keep it)."""
    logins.check_connection_active(connection, request)
    if request.status != "pending":
        raise LoginError.wanted_got(
            "authentication_not_completed",
            "This login was already completed or failed: start it again",
            "a pending login",
            request.status,
        )
    provider = load_provider(rt, env, connection)
    iss = _param(params, "iss")
    # RFC 9207 §2.4: the iss parameter, when sent (or promised), must be the issuer the login was sent to.
    if (iss is not None or provider.iss_parameter_supported) and iss != provider.issuer:
        raise LoginError.wanted_got(
            "invalid_request",
            "The authorization response comes from another issuer than the connection's IdP",
            provider.issuer,
            (iss or "no iss parameter")[:MAX_IDP_TEXT],
        )
    if params.get("error") is not None:
        raise _idp_error(params)
    code = _param(params, "code")
    if not code:
        raise LoginError.wanted_got(
            "authentication_not_completed", "The IdP returned no authorization code", "code", "none"
        )
    state = str(request.upstream_request_id)
    config = connection.oidc_config
    policy = policy_for(rt.settings)
    tokens = client.exchange_code(
        provider,
        config,
        oidc_client_secret(rt, connection),
        code=code,
        callback=client.connection_redirect_uri(connection, env),
        code_verifier=binding.verifier_for(rt, state) if config.get("pkce_enabled", True) is not False else None,
        policy=policy,
    )
    expected = Expected(
        provider=provider,
        client_id=str(config.get("client_id", "")),
        nonce=binding.nonce_for(rt, state),
        now=rt.clock.now(),
        skew_seconds=rt.settings.clock_skew_seconds,
    )
    claims = validate_id_token(rt, tokens["id_token"], expected)
    access_token = tokens.get("access_token")
    if provider.userinfo_endpoint and isinstance(access_token, str) and access_token:
        userinfo = client.fetch_userinfo(provider, access_token, policy=policy)
        claims = merge_userinfo(claims, userinfo)
    return claims, tokens["id_token"] if provider.end_session_endpoint else None


def finish_login(
    rt: Runtime, env: Environment, connection_id: str, params: QueryParams, client_ip: str | None
) -> Response:
    """Handle one GET to the redirect URI. Never raises for any input: every failure is a LoginError, recorded."""
    connection: SsoConnection | None = None
    request: AuthRequest | None = None
    try:
        repeated = first_repeated(params)
        if repeated is not None:
            raise LoginError("invalid_request", f"the parameter {repeated} was given more than once")
        connection, request = _load(rt, env, connection_id, _param(params, "state"))
        claims, idp_id_token = _finish(rt, env, connection, request, params)
        profile = map_profile(claims, connection.attribute_mapping, connection.provider)
        session_id = new_id("ses")
        writes = WriteBatch()
        url = logins.complete_login(rt, writes, request, connection, profile, client_ip, session_id=session_id)
        with transaction(rt.engine) as db:
            if not writes.execute_in(db):
                raise logins.already_completed()
            if idp_id_token is not None:
                # kept for the logout that may follow: the IdP's end_session_endpoint wants it as id_token_hint
                keep_id_token(
                    rt, db, env_id=env.id, connection_id=connection.id, session_id=session_id, id_token=idp_id_token
                )
        return no_store_redirect(url)
    except LoginError as error:
        return failed_login(rt, env, error, request=request, connection=connection, client_ip=client_ip)
