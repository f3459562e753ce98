"""GET /oauth/authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 7636 §4.3; CONTRACT §3.1).

Two kinds of failure. Until the client and its redirect_uri are known to be good, nothing can be sent back
safely (§4.1.2.1: "the authorization server ... MUST NOT automatically redirect the user-agent to the invalid
redirection URI"), so the user sees a branded error page. After that, every failure is recorded in the auth
log and redirected to the app with the recorded event's reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from entryway.connectors.base import Connector
from entryway.connectors.registry import connector_for
from entryway.model.connections import SsoConnection
from entryway.model.environments import RedirectKind
from entryway.model.errors import LoginError
from entryway.model.selectors import Selector, choose_selector
from entryway.oidc_provider import pkce
from entryway.oidc_provider.client_auth import looks_like_client_id
from entryway.oidc_provider.login_scopes import DEFAULT_SCOPE, MAX_SCOPE_LENGTH, OPENID, parse_scope
from entryway.oidc_provider.params import MalformedParameter, RepeatedParameter, first_repeated, single
from entryway.runtime import Runtime
from entryway.services import credentials, logins
from entryway.services.environments import Environment, redirect_allowed
from entryway.store.write_batch import WriteBatch
from entryway.web.pages import error_page
from entryway.web.redirects import no_store_redirect
from entryway.web.requests import client_ip, request_environment, runtime
from entryway.web.routing import plain_route
from entryway.web.step_runner import off_loop

router = APIRouter(include_in_schema=False)

MAX_STATE = 2048
MAX_NONCE = 512
MAX_LOGIN_HINT = 320  # the longest email address (RFC 5321) and the stored column's size
MAX_SELECTOR = 256


class NotRedirectable(Exception):
    """A failure that must be shown to the user, never redirected: the client or redirect_uri is not trusted."""

    def __init__(self, error: LoginError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class LoginParams:
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    selector: Selector


def _invalid_request(message: str, **diagnosis: object) -> LoginError:
    return LoginError("invalid_request", message, dict(diagnosis))


def _param(params: QueryParams, name: str, max_length: int) -> str | None:
    try:
        return single(params, name, max_length=max_length)
    except (RepeatedParameter, MalformedParameter) as exc:
        raise _invalid_request(str(exc), parameter=name) from exc


def _trusted_target(params: QueryParams) -> tuple[str, str]:
    """The client_id and redirect_uri, both present once; otherwise the request cannot be answered by redirect."""
    found: list[str] = []
    for name in ("client_id", "redirect_uri"):
        try:
            value = single(params, name, max_length=2048)
        except (RepeatedParameter, MalformedParameter) as exc:
            raise NotRedirectable(_invalid_request(str(exc), parameter=name)) from exc
        if value is None:
            raise NotRedirectable(_invalid_request(f"{name} is required", parameter=name))
        found.append(value)
    return found[0], found[1]


def _check_client(rt: Runtime, env: Environment, client_id: str, redirect_uri: str) -> None:
    client = credentials.cached_client(rt, client_id) if looks_like_client_id(client_id) else None
    if client is None or client.environment_id != env.id or client.kind != "app":
        raise NotRedirectable(
            LoginError.wanted_got(
                "invalid_client",
                "The client_id is not this environment's client: use ENTRYWAY_CLIENT_ID exactly as it was shown",
                "the app client of " + env.id,
                "an unknown client" if client is None else "a client that cannot log users in here",
            )
        )
    if not redirect_allowed(rt, env.id, RedirectKind.CALLBACK, redirect_uri):
        raise NotRedirectable(
            LoginError.wanted_got(
                "invalid_redirect_uri",
                "The redirect_uri is not on this environment's list of callback URLs",
                "a registered callback URL",
                redirect_uri[:256],
            )
        )


def parse_login_params(params: QueryParams) -> LoginParams:
    """Validate everything but the client and redirect_uri; raises a LoginError to redirect with."""
    repeated = first_repeated(params)
    if repeated is not None:
        raise _invalid_request(f"the parameter {repeated} was given more than once", parameter=repeated)
    response_type = _param(params, "response_type", 64)
    if response_type != "code":
        raise _invalid_request(
            "response_type must be code" if response_type else "response_type is required (response_type=code)",
            wanted="code",
            got=response_type,
        )
    scope_text = _param(params, "scope", MAX_SCOPE_LENGTH) or DEFAULT_SCOPE
    scopes = parse_scope(scope_text)
    if scopes is None:
        raise _invalid_request("scope must be space-separated scope names", parameter="scope")
    if OPENID not in scopes:
        raise _invalid_request("scope must include openid", wanted="openid", got=scope_text)
    prompt = _param(params, "prompt", 128)
    if prompt is not None and "none" in prompt.split(" "):
        # Entryway keeps no browser session of its own, so it can never log a user in without a UI.
        raise LoginError(
            "access_denied",
            "prompt=none cannot be honoured: the user must sign in at their identity provider",
            {"wanted": "no prompt, or login / consent / select_account", "got": "none"},
        )
    nonce = _param(params, "nonce", MAX_NONCE)
    challenge = _param(params, "code_challenge", 256)
    method = _param(params, "code_challenge_method", 16)
    if challenge is None and method is not None:
        raise _invalid_request("code_challenge_method was given without code_challenge")
    if challenge is not None:
        # RFC 7636 §4.3: an absent method means "plain", which is refused like any method but S256.
        if method != pkce.S256:
            raise _invalid_request("code_challenge_method must be S256", wanted="S256", got=method or "plain")
        if not pkce.valid_challenge(challenge):
            raise _invalid_request("code_challenge must be 43-128 base64url characters")
    selector = choose_selector(
        connection_id=_param(params, "connection_id", MAX_SELECTOR),
        organization_id=_param(params, "organization_id", MAX_SELECTOR),
        domain=_param(params, "domain", MAX_SELECTOR),
        domain_hint=_param(params, "domain_hint", MAX_SELECTOR),
        login_hint=_param(params, "login_hint", MAX_LOGIN_HINT),
    )
    return LoginParams(" ".join(scopes), nonce, challenge, method if challenge else None, selector)


def _state(params: QueryParams) -> tuple[str | None, LoginError | None]:
    """The state to echo, and the error it is if it cannot be echoed (repeated, too long, control characters)."""
    try:
        return single(params, "state", max_length=MAX_STATE), None
    except (RepeatedParameter, MalformedParameter) as exc:
        return None, _invalid_request(str(exc), parameter="state")


def _not_valid_page(rt: Runtime, env: Environment, exc: NotRedirectable, ip: str | None) -> Response:
    ref, _ = logins.fail_login(rt, env.id, exc.error, step="authorize", client_ip=ip)
    return error_page(
        "This sign-in link is not valid",
        exc.error.message,
        code=exc.error.code,
        status=400,
        reference=ref,
        hint="The application that sent you here is misconfigured; tell its developers this reference.",
    )


@plain_route(router, "/oauth/authorize", "GET")
async def authorize(request: Request) -> Response:
    # A plain route, the environment looked up here: FastAPI's dependency solving cost more CPU than the lookups
    # themselves on the benchmark's login path (bench/README.md). A login step (web/step_runner.py): in the
    # thread pool in one hand-over; in place, except sending the browser on for a connector that may fetch from
    # its IdP first (OIDC discovery).
    env = await request_environment(request)
    rt = runtime(request)
    if not rt.settings.login_steps_in_place:
        return await off_loop(_authorize_and_start, request, rt, env)
    started = _authorize(request, rt, env)
    if isinstance(started, Response):
        return started
    if started.connector.start_may_fetch:
        return await off_loop(_start_login, rt, env, started)
    return _start_login(rt, env, started)


def _authorize_and_start(request: Request, rt: Runtime, env: Environment) -> Response:
    started = _authorize(request, rt, env)
    return started if isinstance(started, Response) else _start_login(rt, env, started)


@dataclass(frozen=True)
class _Started:
    """An auth request stored, its IdP not yet asked."""

    connector: Connector
    connection: SsoConnection
    auth_request: logins.AuthRequest
    client_ip: str | None


def _authorize(request: Request, rt: Runtime, env: Environment) -> Response | _Started:
    params = request.query_params
    ip = client_ip(request)
    try:
        client_id, redirect_uri = _trusted_target(params)
    except NotRedirectable as exc:
        return _not_valid_page(rt, env, exc, ip)
    state, state_error = _state(params)
    connection = None
    try:
        # The client, redirect URI and connection come from the configuration cache; the one write is the
        # auth request, stored with the ID the IdP will answer (AuthnRequest ID or OIDC state).
        _check_client(rt, env, client_id, redirect_uri)
        if state_error is not None:
            raise state_error
        login = parse_login_params(params)
        connection = logins.resolve_connection(rt, env, login.selector)
        connector = connector_for(connection)
        writes = WriteBatch()
        auth_request = logins.create_auth_request(
            rt,
            writes,
            env=env,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=login.scope,
            state=state,
            nonce=login.nonce,
            code_challenge=login.code_challenge,
            code_challenge_method=login.code_challenge_method,
            connection=connection,
            login_hint=login.selector.login_hint,
            upstream_request_id=connector.new_upstream_id(),
            client_ip=ip,
        )
        # The auth request and its log row, one autocommit statement on PostgreSQL: nothing is consumed, so an
        # instance that dies before answering leaves only a request that expires unused (store/write_batch.py).
        writes.execute(rt.engine, commit="with_statement")
    except NotRedirectable as exc:
        return _not_valid_page(rt, env, exc, ip)
    except LoginError as err:
        url = logins.fail_authorize(
            rt, env.id, err, redirect_uri=redirect_uri, state=state, connection=connection, client_ip=ip
        )
        return no_store_redirect(url)
    return _Started(connector, connection, auth_request, ip)


def _start_login(rt: Runtime, env: Environment, started: _Started) -> Response:
    try:
        return started.connector.start_login(rt, env, started.connection, started.auth_request)
    except LoginError as err:
        _, failed = logins.fail_login(
            rt,
            env.id,
            err,
            step="authorize",
            request=started.auth_request,
            connection=started.connection,
            client_ip=started.client_ip,
        )
        assert failed is not None  # a request was given, so there is a target
        return no_store_redirect(failed)
