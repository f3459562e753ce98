"""Custom domain page: set the environment's own name (sso.acme.com), the DNS record to publish, "verify now"
with what DNS answered against what was wanted, what changes once it is verified (the app's .env line), and
remove. The rules are services/custom_domains.py's; docs/custom-domains.md explains them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from entryway.api import custom_domain_views as view
from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.messages import refusal_text
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import custom_domains
from entryway.services.domains import DnsCheck
from entryway.services.environments import get_environment
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()
PATH = "/dashboard/custom-domain"


def _show(
    rt: Runtime,
    owner: Owner,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: str = "",
    check: DnsCheck | None = None,
    previous_url: str | None = None,
) -> Response:
    # Read afresh: the request's environment may be a route cached before this change.
    with rt.engine.connect() as conn:
        current = get_environment(conn, owner.live.env.id)
    shown: dict[str, Any] = view.custom_domain(rt.settings, current, previous_url=previous_url)
    return owner_page(
        owner,
        "dashboard/custom_domain.html",
        "custom_domain",
        {
            "current": current,
            "domain": shown,
            "target": custom_domains.cname_target(rt.settings, current),
            "check": check,
            "typed": typed,
        },
        status=status,
        notice=f"custom_domain_{notice}" if notice else None,
        error=error,
    )


@router.get(PATH)
def custom_domain_page(request: Request, done: str | None = None, owner: Owner = Depends(signed_in)) -> Response:
    return _show(runtime(request), owner, notice=done)


@router.post(PATH)
async def set_domain(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    domain = str(form.get("domain") or "").strip()
    if not domain:
        return _show(rt, owner, status=400, error="Enter the domain name, e.g. sso.acme.com.")
    env_id = owner.live.env.id
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env_id, str(form.get(SUBMISSION_FIELD) or "")):
                return _show(rt, owner, status=409, error=ALREADY_SUBMITTED)
            env = custom_domains.set_custom_domain(rt, conn, get_environment(conn, env_id), domain)
            audit(
                rt, conn, owner.live.session, "custom_domain.set", target=env.custom_domain,
                client_ip=owner.live.client_ip,
            )  # fmt: skip
    except ApiError as exc:
        return _show(rt, owner, status=exc.status, error=refusal_text(exc), typed=domain)
    return RedirectResponse(f"{PATH}?done=set", status_code=303)


@router.post(PATH + "/verify")
async def verify(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        before = get_environment(conn, env_id)
    try:
        # The DNS lookup blocks for up to a few seconds: off the event loop. A second click only asks DNS again.
        env, check = await run_in_threadpool(custom_domains.verify_custom_domain, rt, env_id)
    except ApiError as exc:
        return _show(rt, owner, status=exc.status, error=refusal_text(exc))
    if env.custom_domain_verified and not before.custom_domain_verified:
        with rt.engine.begin() as conn:
            audit(
                rt, conn, owner.live.session, "custom_domain.verified", target=env.custom_domain,
                client_ip=owner.live.client_ip,
            )  # fmt: skip
    return _show(rt, owner, check=check)


@router.post(PATH + "/remove")
async def remove(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    env_id = owner.live.env.id
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env_id, str(form.get(SUBMISSION_FIELD) or "")):
                return _show(rt, owner, status=409, error=ALREADY_SUBMITTED)
            before = get_environment(conn, env_id)
            if not before.custom_domain:
                return _show(rt, owner, status=409, error="There is no custom domain to remove.")
            custom_domains.remove_custom_domain(rt, conn, before)
            audit(
                rt, conn, owner.live.session, "custom_domain.removed", target=before.custom_domain,
                client_ip=owner.live.client_ip,
            )  # fmt: skip
    except ApiError as exc:
        return _show(rt, owner, status=exc.status, error=refusal_text(exc))
    if before.custom_url:
        # The app must go back to the environment's own URL: say so on the page the removal answers with.
        return _show(rt, owner, notice="removed", previous_url=before.custom_url)
    return RedirectResponse(f"{PATH}?done=removed", status_code=303)
