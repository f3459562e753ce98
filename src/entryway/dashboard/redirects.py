"""Redirects page: callback, post-logout and initiate-login URLs, with the environment's rules checked as the
developer types (the page asks /dashboard/redirects/check, which runs the very rules the server enforces)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.messages import refusal_text
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.environments import MAX_CALLBACK_URIS, MAX_POST_LOGOUT_URIS, EnvironmentType, RedirectKind
from entryway.model.errors import ApiError
from entryway.model.redirect_uris import MAX_LENGTH, check_redirect_uri
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()

KINDS = {
    "callback": (
        RedirectKind.CALLBACK,
        "Callback URLs",
        f"Where logins return with ?code=. At most {MAX_CALLBACK_URIS}; the first is the default.",
    ),
    "post_logout": (
        RedirectKind.POST_LOGOUT,
        "Post-logout URLs",
        f"Where /oidc/logout may send the browser. At most {MAX_POST_LOGOUT_URIS}.",
    ),
    "initiate_login": (
        RedirectKind.INITIATE_LOGIN,
        "Initiate-login URL",
        "The app route that starts a login from an IdP-initiated ?idp_initiated_login= token. One.",
    ),
}


def rules(env_type: EnvironmentType) -> list[str]:
    common = [
        "Matched exactly: scheme, host, port, path, case and trailing slash.",
        f"At most {MAX_LENGTH} characters; no query string, fragment or user@host.",
    ]
    if env_type is EnvironmentType.PRODUCTION:
        extra = [
            "https, or a custom app scheme (myapp://callback).",
            "No localhost or loopback addresses, no wildcards.",
        ]
    else:
        extra = [
            "http, https, or a custom app scheme (myapp://callback); localhost is fine.",
            "One wildcard may stand for the outermost host label or its prefix: "
            "https://*.acme.com, https://pr-*.acme.com.",
        ]
    return [*common, *extra]


def _show(
    rt: Runtime,
    owner: Owner,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: str = "",
    typed_kind: str = "callback",
) -> Response:
    env = owner.live.env
    with rt.engine.connect() as conn:
        registered = environments.list_redirect_uris(conn, env.id)
    groups = [
        (key, title, help_text, [r for r in registered if r.kind is kind])
        for key, (kind, title, help_text) in KINDS.items()
    ]
    return owner_page(
        owner,
        "dashboard/redirects.html",
        "redirects",
        {"groups": groups, "rules": rules(env.type), "typed": typed, "typed_kind": typed_kind},
        status=status,
        notice=notice,
        error=error,
    )


@router.get("/dashboard/redirects")
def redirects_page(request: Request, done: str | None = None, owner: Owner = Depends(signed_in)) -> Response:
    return _show(runtime(request), owner, notice=done)


@router.get("/dashboard/redirects/check")
def check(request: Request, uri: str = "", owner: Owner = Depends(signed_in)) -> JSONResponse:
    problems = check_redirect_uri(uri[: MAX_LENGTH * 4], owner.live.env.type) if uri else []
    return JSONResponse({"ok": bool(uri) and not problems, "problems": problems}, headers={"Cache-Control": "no-store"})


@router.post("/dashboard/redirects")
async def add(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    uri = str(form.get("uri") or "").strip()
    kind_key = str(form.get("kind") or "callback")
    if kind_key not in KINDS:
        return _show(rt, owner, status=400, error="Choose what kind of URL this is.", typed=uri)
    if not uri:
        return _show(rt, owner, status=400, error="Enter the URL to add.", typed_kind=kind_key)
    kind = KINDS[kind_key][0]
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                return _show(rt, owner, status=409, error=ALREADY_SUBMITTED)
            if kind is RedirectKind.INITIATE_LOGIN:
                environments.set_initiate_login_uri(rt, conn, env, uri)
                done = "initiate_set"
            else:
                environments.add_redirect_uri(rt, conn, env, kind, uri)
                done = "redirect_added"
            audit(
                rt,
                conn,
                owner.live.session,
                f"redirect_uri.{kind.value}.added",
                target=uri[:256],
                client_ip=owner.live.client_ip,
            )
    except ApiError as exc:
        return _show(rt, owner, status=exc.status, error=refusal_text(exc), typed=uri, typed_kind=kind_key)
    return RedirectResponse(f"/dashboard/redirects?done={done}", status_code=303)


@router.post("/dashboard/redirects/remove")
async def remove(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    uri = str(form.get("uri") or "")
    kind_key = str(form.get("kind") or "")
    if kind_key not in KINDS or not uri:
        return _show(rt, owner, status=400, error="Choose a URL to remove.")
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            environments.remove_redirect_uri(rt, conn, env, KINDS[kind_key][0], uri)
            audit(
                rt,
                conn,
                owner.live.session,
                f"redirect_uri.{kind_key}.removed",
                target=uri[:256],
                client_ip=owner.live.client_ip,
            )
    except ApiError as exc:
        if exc.status == 404:
            return _show(
                rt, owner, status=404, error="That URL is no longer registered (it may have been removed already)."
            )
        return _show(rt, owner, status=exc.status, error=exc.message)
    done = "initiate_cleared" if kind_key == "initiate_login" else "redirect_removed"
    return RedirectResponse(f"/dashboard/redirects?done={done}", status_code=303)
