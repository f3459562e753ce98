"""Signing in to the dashboard: owners (services/owners.py) open a dashboard web session (web/sessions.py).

Pages read with GET send a visitor without a session to the sign-in page (and back afterwards); forms use
the shared guard, which refuses a POST without the session's CSRF token and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from entryway.dashboard.templates import page
from entryway.oidc_provider import auth_failures
from entryway.runtime import Runtime
from entryway.services import owners
from entryway.services.environments import Environment
from entryway.web.requests import client_ip, request_environment, request_runtime, runtime
from entryway.web.session_cookies import (
    LiveSession,
    SessionRefused,
    clear_session_cookie,
    is_https,
    session_guard,
    set_session_cookie,
)
from entryway.web.sessions import SessionKind, end_session, open_session

router = APIRouter()
LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=1)
# Login CSRF: the sign-in form carries the value of a cookie set with it (double submit), so another site
# cannot sign a browser in to an account of its choosing.
SIGNIN_COOKIE = "entryway_dashboard_signin"
FORM = session_guard(SessionKind.DASHBOARD)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Owner:
    live: LiveSession
    email: str


async def _load(request: Request) -> LiveSession:
    guard = session_guard(SessionKind.DASHBOARD)
    try:
        return await guard(request)
    except SessionRefused as exc:
        if request.method == "GET" and exc.reason in ("missing", "expired"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target) from exc
        raise


async def signed_in(request: Request) -> Owner:
    """A FastAPI dependency for every dashboard request: the signed-in owner (CSRF-checked on POST)."""
    live = await _load(request)
    rt = runtime(request)
    with rt.engine.connect() as conn:
        found = owners.find_owner(conn, live.env.id, live.session.subject)
    if found is None:  # removed since signing in
        raise SignInRequired(request.url.path)
    return Owner(live, found.email)


def sign_in_redirect(exc: SignInRequired) -> Response:
    return RedirectResponse(f"/dashboard/sign-in?next={quote(exc.next_path, safe='/')}", status_code=303)


def _safe_next(text: str | None) -> str:
    # Only a path of this dashboard: never another host (an open redirect) or a protocol-relative URL.
    if text and text.startswith("/dashboard") and not text.startswith("//") and "\\" not in text:
        return text
    return "/dashboard"


def _form(
    env: Environment, next_path: str, *, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(
        "dashboard/sign_in.html",
        {"env": env, "next": next_path, "email": email, "error": error, "signin_nonce": nonce},
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE, nonce, max_age=1800, path="/dashboard", httponly=True, secure=is_https(env), samesite="strict"
    )
    return response


@router.get("/dashboard/sign-in")
def sign_in_page(
    request: Request, next: str | None = None, env: Environment = Depends(request_environment)
) -> Response:
    return _form(env, _safe_next(next))


@router.post("/dashboard/sign-in")
async def sign_in(
    request: Request, env: Environment = Depends(request_environment), rt: Runtime = Depends(request_runtime)
) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or ""))
    sent_nonce = str(form.get("signin_nonce") or "")
    cookie_nonce = request.cookies.get(SIGNIN_COOKIE) or ""
    if not cookie_nonce or not secrets.compare_digest(sent_nonce.encode(), cookie_nonce.encode()):
        return _form(
            env, next_path, email=email, error="The sign-in form expired. Enter your details again.", status=403
        )
    if not email or not password:
        missing = " and ".join(n for n, v in (("your email", email), ("your password", password)) if not v)
        return _form(env, next_path, email=email, error=f"Enter {missing}.", status=400)
    address = client_ip(request)
    key = f"dashboard:{owners.normalize_email(email)}"[:128]
    try:
        auth_failures.check(rt, env.id, key, address)
    except auth_failures.Throttled as exc:
        return _form(
            env,
            next_path,
            email=email,
            error=f"Too many failed sign-ins. Try again in {exc.retry_after} seconds.",
            status=429,
        )
    owner = await run_in_threadpool(owners.authenticate, rt, env.id, email, password)
    if owner is None:
        auth_failures.record_failure(rt, env.id, key, address)
        return _form(env, next_path, email=email, error="The email or the password is not right.", status=401)
    with rt.engine.begin() as conn:
        session, token = open_session(
            rt,
            conn,
            kind=SessionKind.DASHBOARD,
            environment_id=env.id,
            subject=owner.id,
            lifetime=LIFETIME,
            idle=IDLE,
            client_ip=address,
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, env, SessionKind.DASHBOARD, token, session.expire_time, samesite="strict")
    response.delete_cookie(SIGNIN_COOKIE, path="/dashboard")
    return response


@router.post("/dashboard/sign-out")
def sign_out(request: Request, live: LiveSession = Depends(FORM), rt: Runtime = Depends(request_runtime)) -> Response:
    with rt.engine.begin() as conn:
        end_session(rt, conn, live.session.id)
    response = RedirectResponse("/dashboard/sign-in", status_code=303)
    clear_session_cookie(response, live.env, SessionKind.DASHBOARD)
    return response
