"""The HTTP side of web sessions (entryway.web.sessions): the cookie, and a FastAPI dependency that loads the
session and checks the CSRF token on every state-changing request.

Usage in a router::

    PORTAL = session_guard(SessionKind.PORTAL)

    @router.post("/portal/x")
    def x(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
        ...  # live.session (WebSession), live.csrf (for the next form), live.env

Forms carry the CSRF token in a `csrf_token` field (or an `X-CSRF-Token` header for fetch calls). A missing,
ended or expired session, or a POST without the right token, raises `SessionRefused`; the app turns it into a
page (401 / 403) that says what to do (`refusal_page`), and nothing is changed.

Cookie: `HttpOnly`, `Path=/`, `SameSite=Lax` by default — Lax, not Strict, because a portal test login comes
back from the IdP as a cross-site navigation that must still find the session; every POST is CSRF-checked
anyway. Dashboard sessions may ask for Strict. On https the cookie is `Secure` and takes the `__Host-` prefix
(no Domain, so a sibling subdomain cannot plant one). A session meant to live in a cross-site iframe
(`embedded=True`, https only) is `SameSite=None; Secure; Partitioned` (CHIPS), the only way a browser sends a
cookie to a framed page of another site; on http (local development) it stays Lax, which works when the app
and Entryway share a site (localhost).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fastapi import Request
from starlette.responses import Response

from entryway.services.environments import Environment
from entryway.web.pages import error_page
from entryway.web.requests import client_ip, current_environment, runtime
from entryway.web.sessions import SessionKind, WebSession, csrf_ok, csrf_token, find_session

SameSite = Literal["lax", "strict", "none"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def cookie_name(kind: SessionKind, secure: bool) -> str:
    return f"{'__Host-' if secure else ''}entryway_{kind.value}"


def is_https(env: Environment) -> bool:
    return env.url.startswith("https://")


def set_session_cookie(
    response: Response,
    env: Environment,
    kind: SessionKind,
    token: str,
    expires: datetime,
    *,
    samesite: SameSite = "lax",
    embedded: bool = False,
) -> None:
    secure = is_https(env)
    if embedded and secure:
        samesite = "none"
    response.set_cookie(
        cookie_name(kind, secure),
        token,
        expires=expires,
        path="/",
        httponly=True,
        secure=secure,
        samesite=samesite,
    )
    if embedded and secure:
        # Starlette has no Partitioned flag yet: append it to the header just written.
        raw = response.raw_headers[-1]
        response.raw_headers[-1] = (raw[0], raw[1] + b"; Partitioned")


def clear_session_cookie(response: Response, env: Environment, kind: SessionKind) -> None:
    secure = is_https(env)
    response.delete_cookie(cookie_name(kind, secure), path="/", httponly=True, secure=secure, samesite="lax")


def session_token(request: Request, env: Environment, kind: SessionKind) -> str | None:
    return request.cookies.get(cookie_name(kind, is_https(env)))


class SessionRefused(Exception):
    """No usable session, or a state-changing request without its CSRF token."""

    def __init__(self, kind: SessionKind, reason: Literal["missing", "expired", "csrf"]) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class LiveSession:
    session: WebSession
    token: str
    env: Environment
    client_ip: str | None

    @property
    def csrf(self) -> str:
        return csrf_token(self.token, self.session)


def session_guard(kind: SessionKind) -> Callable[[Request], Awaitable[LiveSession]]:
    """A FastAPI dependency giving the request's live session of `kind`, CSRF-checked on unsafe methods."""

    async def guard(request: Request) -> LiveSession:
        env = current_environment(request)
        token = session_token(request, env, kind)
        if not token:
            raise SessionRefused(kind, "missing")
        rt = runtime(request)
        with rt.engine.begin() as conn:
            session = find_session(rt, conn, token, kind=kind, environment_id=env.id)
        if session is None:
            raise SessionRefused(kind, "expired")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None:
                content_type = request.headers.get("content-type", "")
                if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                    form = await request.form()  # Starlette caches it: the handler reads the same form
                    value = form.get(CSRF_FIELD)
                    sent = value if isinstance(value, str) else None
            if not csrf_ok(token, session, sent):
                raise SessionRefused(kind, "csrf")
        return LiveSession(session, token, env, client_ip(request))

    return guard


_WHAT_NEXT = {
    SessionKind.PORTAL: "Open the portal link you were sent again, or ask whoever sent it for a new one.",
    SessionKind.DASHBOARD: "Sign in to the dashboard again.",
}


def refusal_page(exc: SessionRefused) -> Response:
    if exc.reason == "csrf":
        return error_page(
            "This form has expired",
            "The form was sent without the security token of your session, so nothing was changed.",
            code="csrf_failed",
            status=403,
            hint="Reload the page and send the form again.",
        )
    if exc.reason == "missing":
        return error_page(
            "You are not signed in",
            "This page needs a session and your browser did not send one (it may block cookies here).",
            code="session_missing",
            status=401,
            hint=_WHAT_NEXT[exc.kind],
        )
    return error_page(
        "Your session has ended",
        "It was idle too long, reached its time limit, or the link that opened it was revoked.",
        code="session_expired",
        status=401,
        hint=_WHAT_NEXT[exc.kind],
    )
