"""POST /oauth/token (RFC 6749 §3.2, §4.1.3, §4.4; CONTRACT §3.2): codes for tokens, and client credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, Headers

from entryway.model.errors import OAuthError
from entryway.model.scopes import client_scopes
from entryway.oidc_provider import access_tokens, auth_failures, client_auth, codes, pkce, signing
from entryway.oidc_provider.claims import TokenBinding, id_token_claims, user_claims
from entryway.oidc_provider.login_scopes import parse_scope
from entryway.oidc_provider.params import MalformedParameter, RepeatedParameter, first_repeated, single
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.credentials import Client
from entryway.services.environments import Environment
from entryway.services.logins import cached_connection
from entryway.store.after_commit import transaction
from entryway.store.db import reading
from entryway.store.write_batch import WriteBatch
from entryway.web.requests import client_ip, request_environment, runtime
from entryway.web.routing import plain_route
from entryway.web.step_runner import run_step

router = APIRouter(include_in_schema=False)

CLIENT_CREDENTIALS_TTL = 86399
# RFC 6749 §5.1: "The authorization server MUST include the HTTP Cache-Control response header field with a
# value of no-store in any response containing tokens, credentials, or other sensitive information".
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _param(form: FormData, name: str, *, max_length: int = 2048) -> str | None:
    try:
        return single(form, name, max_length=max_length)
    except (RepeatedParameter, MalformedParameter) as exc:
        raise OAuthError("invalid_request", str(exc)) from exc


def _required(form: FormData, name: str) -> str:
    value = _param(form, name)
    if value is None:
        raise OAuthError("invalid_request", f"{name} is required")
    return value


@plain_route(router, "/oauth/token", "POST")
async def token(request: Request) -> JSONResponse:
    # A plain route, the environment and runtime looked up here: FastAPI's dependency solving cost more CPU than
    # the lookups on the benchmark's login path (bench/README.md).
    env = await request_environment(request)
    rt = runtime(request)
    try:
        return await _token(rt, env, request)
    except OAuthError as exc:
        # Refused before a code was looked up (client authentication, the form, the grant type): not in the auth
        # log, which records logins by their codes, but a failed token step all the same.
        if not exc.in_auth_log:
            rt.metrics.login_event(auth_log.FAILED, exc.error, "token")
        raise


async def _token(rt: Runtime, env: Environment, request: Request) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send the token request as application/x-www-form-urlencoded")
    form = await request.form()
    try:
        # Client authentication, the code's redemption and the tokens' signatures: a login step
        # (web/step_runner.py); Redis, when it counts failures, answers within 0.5 s or is skipped for a while.
        body = await run_step(rt.settings, exchange, rt, env, request.headers, form, client_ip(request))
    except auth_failures.Throttled as exc:
        rt.metrics.login_event(auth_log.FAILED, "invalid_client", "token")
        return JSONResponse(
            {
                "error": "invalid_client",
                "error_description": f"Too many failed client authentications: retry after {exc.retry_after} s",
            },
            status_code=429,
            headers={**NO_STORE, "Retry-After": str(exc.retry_after)},
        )
    return JSONResponse(body, headers=NO_STORE)


def exchange(
    rt: Runtime, env: Environment, headers: Headers, form: FormData, address: str | None = None
) -> dict[str, Any]:
    repeated = first_repeated(form)
    if repeated is not None:
        raise OAuthError("invalid_request", f"the parameter {repeated} was given more than once")
    claimed = client_auth.claimed_client_id(headers, form)
    auth_failures.check(rt, env.id, claimed, address)
    try:
        client = client_auth.authenticate(rt, env, headers, form)
    except (RepeatedParameter, MalformedParameter) as exc:
        raise OAuthError("invalid_request", str(exc)) from exc
    except OAuthError as exc:
        if exc.error == "invalid_client":
            auth_failures.record_failure(rt, env.id, claimed, address)
        raise
    grant_type = _required(form, "grant_type")
    if grant_type == "authorization_code":
        return authorization_code(rt, env, client, form)
    if grant_type == "client_credentials":
        return client_credentials(rt, env, client, form)
    raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


def authorization_code(rt: Runtime, env: Environment, client: Client, form: FormData) -> dict[str, Any]:
    if client.kind != "app":
        raise OAuthError("unauthorized_client", "Only the environment's app client may redeem login codes")
    code = _required(form, "code")
    redirect_uri = _required(form, "redirect_uri")
    verifier = _param(form, "code_verifier")
    if verifier is not None and not pkce.valid_verifier(verifier):
        raise OAuthError("invalid_request", "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~")
    settings = rt.settings
    reused = False
    grant: codes.CodeGrant | None = None
    try:
        with reading(rt.engine) as conn:
            grant = codes.find_code(conn, env.id, code)
        if grant is None:
            raise OAuthError("invalid_grant", "The code is unknown or was issued by another environment")
        if grant.used_time is not None:
            reused = True
        else:
            now = rt.clock.now()
            codes.check_bindings(grant, client_id=client.id, redirect_uri=redirect_uri, code_verifier=verifier, now=now)
            connection = cached_connection(rt, env.id, grant.connection_id)
            if connection is None:
                raise OAuthError("invalid_grant", "The connection this login used has been deleted")
            user = user_claims(grant.profile, connection)
            access = access_tokens.mint(
                rt,
                env,
                client_id=client.id,
                subject=user["sub"],
                ttl_seconds=settings.access_token_ttl_seconds,
                organization_id=grant.organization_id,
                session_id=grant.session_id,
            )
            binding = TokenBinding(client.id, grant.session_id, grant.nonce, access.token, code)
            claims = id_token_claims(env.url, user, binding, connection.id, now, settings.id_token_ttl_seconds)
            id_token = signing.sign(rt, env, claims)
            # The redemption and its log row in one write batch (one statement on PostgreSQL): stored only if no
            # other request redeemed the code between our read and this write; if one did, this is a second use.
            writes = WriteBatch()
            codes.mark_redeemed(writes, grant, access.jti, now)
            codes.record_exchanged(rt, writes, grant)
            reused = not writes.execute(rt.engine)
        if reused:
            with transaction(rt.engine) as conn:
                codes.revoke_after_reuse(rt, conn, env, grant)
    except OAuthError as exc:
        # Nothing of the step was stored; the failure is recorded on its own (a failure is not the hot path).
        codes.record_exchange_failure(rt, env, grant, exc)
        raise
    if reused:  # recorded by revoke_after_reuse
        raise OAuthError(
            "invalid_grant", "The code was already used; the tokens it issued have been revoked", in_auth_log=True
        )
    return {"access_token": access.token, "id_token": id_token, "token_type": "Bearer", "expires_in": access.expires_in}


def client_credentials(rt: Runtime, env: Environment, client: Client, form: FormData) -> dict[str, Any]:
    held = client_scopes(client.scopes)
    requested_text = _param(form, "scope")
    if requested_text is None:
        granted = held
    else:
        requested = parse_scope(requested_text)
        if not requested:
            raise OAuthError("invalid_scope", "scope must be a space-separated list of scope names")
        unknown = [s for s in requested if s not in held]
        if unknown:
            raise OAuthError("invalid_scope", f"The client may not request: {' '.join(unknown)}")
        granted = [s for s in held if s in requested]
    access = access_tokens.mint(
        rt, env, client_id=client.id, subject=client.id, ttl_seconds=CLIENT_CREDENTIALS_TTL, scopes=granted
    )
    return {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": CLIENT_CREDENTIALS_TTL,
        "scope": " ".join(granted),
    }
