"""The login transaction (DESIGN §3): an auth request is stored at /oauth/authorize, bound to exactly one
connection; the connector finishes it with a Profile (or a LoginError); a single-use code is then issued.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from entryway.ids import new_id
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.model.profile import Profile
from entryway.model.selectors import Selector, SelectorKind
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.connections import find_connection
from entryway.services.environments import Environment
from entryway.services.login_routes import route_entries, route_for_domain, route_for_organization
from entryway.store.after_commit import transaction
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import auth_codes, auth_requests
from entryway.store.write_batch import CountedWrites, WriteBatch, insert_row
from entryway.web.urls import with_query

# The client_id of the auth requests the admin portal's "test connection" makes (portal/test_logins.py). It
# names no client row, so no app can authenticate as it at /oauth/token; its redirect_uri is a portal page.
PORTAL_TEST_CLIENT = "entryway-portal-test"

# The login path's statements, built once and run without SQLAlchemy's per-execution work (store/hot_statements.py).
_INSERT_REQUEST = HotStatement(insert(auth_requests))
_INSERT_CODE = HotStatement(insert(auth_codes))
_BY_UPSTREAM_REQUEST = HotStatement(
    select(auth_requests).where(auth_requests.c.upstream_request_id == bindparam("upstream_request_id"))
)
# pending -> completed, conditionally: a request completes once only, even when two instances race.
_COMPLETE_REQUEST = HotStatement(
    update(auth_requests)
    .where(auth_requests.c.id == bindparam("request_id"), auth_requests.c.status == "pending")
    .values(status="completed")
)


@dataclass(frozen=True)
class AuthRequest:
    id: str
    environment_id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    connection_id: str
    organization_id: str
    login_hint: str | None
    upstream_request_id: str | None
    status: str
    create_time: datetime
    expire_time: datetime


def check_connection_active(connection: SsoConnection, request: AuthRequest | None) -> None:
    """A disabled connection finishes no login, except the admin portal's test of it (made before enabling)."""
    if connection.enabled or (request is not None and request.client_id == PORTAL_TEST_CLIENT):
        return
    raise LoginError.wanted_got(
        "connection_not_active", "The connection is disabled", "enabled", "disabled", connection_id=connection.id
    )


def _auth_request(row: Mapping[str, Any]) -> AuthRequest:
    return AuthRequest(**row)


def cached_connection(rt: Runtime, env_id: str, connection_id: str) -> SsoConnection | None:
    """A connection of an environment, from the configuration cache (the login path's lookup)."""
    return rt.config.fetch(("connection", env_id, connection_id), find_connection, env_id, connection_id)


def resolve_connection(rt: Runtime, env: Environment, selector: Selector) -> SsoConnection:
    """The one connection a login will use, by the selector precedence; never falls through on a bad value.

    Every lookup comes from the configuration cache: no database round trip once an organization is warm.
    """
    if selector.kind is SelectorKind.CONNECTION:
        found = cached_connection(rt, env.id, selector.value)
        if found is None:
            raise LoginError.wanted_got(
                "invalid_connection_id",
                "connection_id does not name a connection of this environment",
                "a connection of " + env.id,
                selector.value,
            )
        if not found.enabled:
            raise LoginError.wanted_got(
                "connection_not_active",
                "The connection is disabled: enable it before logging in through it",
                "enabled",
                "disabled",
                connection_id=found.id,
            )
        return found
    # One joined read answers the organization and all its connections; each connection is cached under its own
    # key too, so the ACS, the token endpoint (and the simulator) find it without another query.
    related = route_entries(env.id)
    if selector.kind is SelectorKind.ORGANIZATION:
        route = rt.config.fetch(
            ("org_route", env.id, selector.value), route_for_organization, env.id, selector.value, related=related
        )
        if route is None:
            raise LoginError.wanted_got(
                "invalid_organization_id",
                "organization_id does not name an organization of this environment",
                "an organization of " + env.id,
                selector.value,
            )
    else:
        route = rt.config.fetch(
            ("domain_route", env.id, selector.value), route_for_domain, env.id, selector.value, related=related
        )
        if route is None:
            code = "domain_not_found"
            raise LoginError.wanted_got(
                code,
                f"No organization has the domain {selector.value}: add it to the organization first",
                "a registered organization domain",
                selector.value,
            )
    org_id = route.organization_id
    candidates = route.connections
    enabled = [c for c in candidates if c.enabled]
    if not enabled:
        raise LoginError(
            "no_active_connections",
            "The organization has no enabled SSO connection",
            {
                "wanted": "an enabled connection",
                "got": f"{len(candidates)} connection(s), none enabled",
                "organization_id": org_id,
            },
        )
    return enabled[0]


def create_auth_request(
    rt: Runtime,
    conn: CountedWrites,
    *,
    env: Environment,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str | None,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    connection: SsoConnection,
    login_hint: str | None,
    upstream_request_id: str | None = None,
    client_ip: str | None = None,
) -> AuthRequest:
    now = rt.clock.now()
    values: dict[str, Any] = dict(
        id=new_id("req"),
        environment_id=env.id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        connection_id=connection.id,
        organization_id=connection.organization_id,
        login_hint=login_hint,
        upstream_request_id=upstream_request_id,
        status="pending",
        create_time=now,
        expire_time=now + timedelta(seconds=rt.settings.auth_request_ttl_seconds),
    )
    insert_row(conn, _INSERT_REQUEST, values)
    auth_log.record(
        rt,
        conn,
        environment_id=env.id,
        status=auth_log.INITIATED,
        step="authorize",
        auth_request_id=values["id"],
        organization_id=connection.organization_id,
        connection_id=connection.id,
        email=login_hint,
        client_ip=client_ip,
    )
    return AuthRequest(**values)


def get_auth_request(conn: Connection, auth_request_id: str) -> AuthRequest | None:
    row = conn.execute(select(auth_requests).where(auth_requests.c.id == auth_request_id)).first()
    return _auth_request(dict(row._mapping)) if row is not None else None


def find_by_upstream_request(conn: Connection, upstream_request_id: str) -> AuthRequest | None:
    row = _BY_UPSTREAM_REQUEST.first(conn, {"upstream_request_id": upstream_request_id})
    return _auth_request(row) if row is not None else None


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> str:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return with_query(redirect_uri, params)


def complete_login(
    rt: Runtime,
    writes: WriteBatch,
    request: AuthRequest,
    connection: SsoConnection,
    profile: Profile,
    client_ip: str | None = None,
    session_id: str | None = None,
) -> str:
    """Finish a pending auth request: issue a single-use code and return the app redirect URL.

    `session_id` (the `sid` of the tokens the code yields) may be chosen by the caller, to store with it what
    belongs to the login session (the OIDC connector keeps the IdP's ID token for logout; the SAML connector the
    NameID and SessionIndex for single logout).

    The pending -> completed transition is a conditional update, the guard of `writes`: the code and the log row
    are stored only if it matched, so a request completes once only, even when two instances race on the same
    response. The caller sends `writes` and raises `already_completed()` when it answers False.
    """
    now = rt.clock.now()
    if request.connection_id != connection.id:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The response came through a different connection than the login started on",
            request.connection_id,
            connection.id,
        )
    if request.expire_time <= now:
        raise LoginError.wanted_got(
            "response_expired",
            "The login took too long and expired: start it again",
            f"before {request.expire_time.isoformat()}",
            now.isoformat(),
        )
    writes.guard(_COMPLETE_REQUEST, {"request_id": request.id})
    code = secrets.token_urlsafe(32)
    writes.insert(
        _INSERT_CODE,
        dict(
            code_hash=hash_code(code),
            auth_request_id=request.id,
            environment_id=request.environment_id,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            scope=request.scope,
            session_id=session_id or new_id("ses"),
            connection_id=connection.id,
            organization_id=connection.organization_id,
            profile=profile.to_dict(),
            create_time=now,
            expire_time=now + timedelta(seconds=rt.settings.code_ttl_seconds),
            used_time=None,
            issued_jti=None,
        ),
    )
    auth_log.record(
        rt,
        writes,
        environment_id=request.environment_id,
        status=auth_log.PENDING,  # SUCCESS when the app exchanges the code (oidc_provider/token.py)
        step="callback",
        auth_request_id=request.id,
        organization_id=connection.organization_id,
        connection_id=connection.id,
        email=profile.email,
        client_ip=client_ip,
    )
    params = {"code": code}
    if request.state is not None:
        params["state"] = request.state
    return with_query(request.redirect_uri, params)


def already_completed() -> LoginError:
    """The login's request was no longer pending when its answer was stored: it completed or failed meanwhile."""
    return LoginError.wanted_got(
        "authentication_not_completed",
        "This login was already completed or failed: start it again",
        "a pending login",
        "a login that was already used",
    )


def fail_login(
    rt: Runtime,
    env_id: str,
    error: LoginError,
    *,
    step: str,
    request: AuthRequest | None = None,
    connection: SsoConnection | None = None,
    client_ip: str | None = None,
) -> tuple[str, str | None]:
    """Record a failed step; return (err_ reference, app redirect URL or None when there is no safe target)."""
    with transaction(rt.engine) as conn:
        ref = auth_log.record(
            rt,
            conn,
            environment_id=env_id,
            status=auth_log.FAILED,
            step=step,
            auth_request_id=request.id if request else None,
            error_code=error.code,
            message=error.message,
            diagnosis=error.diagnosis,
            organization_id=(
                connection.organization_id if connection else request.organization_id if request else None
            ),
            connection_id=(connection.id if connection else request.connection_id if request else None),
            client_ip=client_ip,
        )
        if request is not None:
            conn.execute(
                update(auth_requests)
                .where(auth_requests.c.id == request.id, auth_requests.c.status == "pending")
                .values(status="failed")
            )
    if request is None:
        return ref, None
    description = f"{error.message} (reference {ref})"
    return ref, error_redirect(request.redirect_uri, error.code, description, request.state)


def fail_authorize(
    rt: Runtime,
    env_id: str,
    error: LoginError,
    *,
    redirect_uri: str,
    state: str | None,
    connection: SsoConnection | None = None,
    client_ip: str | None = None,
) -> str:
    """Record an /oauth/authorize failure that happened before an auth request existed, and return the
    app redirect that reports it. Only for a redirect_uri already checked against the allow-list."""
    ref, _ = fail_login(rt, env_id, error, step="authorize", connection=connection, client_ip=client_ip)
    return error_redirect(redirect_uri, error.code, f"{error.message} (reference {ref})", state)
