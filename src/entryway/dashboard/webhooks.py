"""Webhooks page: endpoints with their event types, the whsec_ secret shown once, a test event, deliveries
with every attempt, replay, enable/disable and delete (the outbox and delivery are entryway.events')."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.messages import refusal_text
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.events import delivery, endpoints
from entryway.events.types import EVENT_TYPES
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()
DELIVERIES_SHOWN = 50
NOTICES = {
    "test_sent": "A webhook.test event was sent now; its attempt is listed below.",
    "replayed": "The delivery was sent again now; its new attempt is listed below.",
    "enabled": "The endpoint is enabled.",
    "disabled": "The endpoint is disabled: events are kept for it but not sent.",
}


def _list(
    rt: Runtime, owner: Owner, *, status: int = 200, error: str | None = None, notice: str | None = None, **extra: Any
) -> Response:
    with rt.engine.connect() as conn:
        found = endpoints.list_endpoints(conn, owner.live.env.id, limit=100)
    return owner_page(
        owner,
        "dashboard/webhooks.html",
        "webhooks",
        {"endpoints": found, "event_types": EVENT_TYPES, **extra},
        status=status,
        error=error,
        notice=notice,
    )


@router.get("/dashboard/webhooks")
def webhooks_page(request: Request, done: str | None = None, owner: Owner = Depends(signed_in)) -> Response:
    return _list(runtime(request), owner, notice=done)


@router.post("/dashboard/webhooks")
async def create(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    url = str(form.get("url") or "").strip()
    types = [str(t) for t in form.getlist("event_types")]
    description = str(form.get("description") or "").strip() or None
    typed: dict[str, Any] = {"typed_url": url, "typed_types": types, "typed_description": description or ""}
    if not url or not types:
        missing = " and ".join(n for n, v in (("the URL", url), ("at least one event type", types)) if not v)
        return _list(rt, owner, status=400, error=f"Enter {missing}.", **typed)
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                return _list(rt, owner, status=409, error=ALREADY_SUBMITTED)
            made, secret = endpoints.create_endpoint(rt, conn, env, url=url, event_types=types, description=description)
            audit(rt, conn, owner.live.session, "webhook.created", target=made.id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        return _list(rt, owner, status=exc.status, error=refusal_text(exc), **typed)
    return _detail(rt, owner, made.id, plain_secret=secret)


def _detail(
    rt: Runtime,
    owner: Owner,
    endpoint_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    **extra: Any,
) -> Response:
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        found = endpoints.find_endpoint(conn, env_id, endpoint_id)
        if found is None:
            return _list(rt, owner, status=404, error="That endpoint no longer exists (deleted already?).")
        shown = delivery.list_deliveries(conn, env_id, endpoint_id, limit=DELIVERIES_SHOWN)
        attempts = {d.id: delivery.attempts_of(conn, d.id) for d in shown}
    return owner_page(
        owner,
        "dashboard/webhook.html",
        "webhooks",
        {"endpoint": found, "deliveries": shown, "attempts": attempts, **extra},
        status=status,
        error=error,
        notice=NOTICES.get(notice or "") if notice else None,
    )


@router.get("/dashboard/webhooks/{endpoint_id}")
def webhook_page(
    request: Request, endpoint_id: str, done: str | None = None, owner: Owner = Depends(signed_in)
) -> Response:
    return _detail(runtime(request), owner, endpoint_id, notice=done)


@router.post("/dashboard/webhooks/{endpoint_id}")
async def change(request: Request, endpoint_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    action = str(form.get("action") or "")
    env = owner.live.env
    back = f"/dashboard/webhooks/{endpoint_id}"
    try:
        if action == "test":
            await run_in_threadpool(delivery.send_test, rt, env.id, endpoint_id)
            return RedirectResponse(f"{back}?done=test_sent", status_code=303)
        if action == "replay":
            delivery_id = str(form.get("delivery_id") or "")
            await run_in_threadpool(delivery.replay, rt, env.id, endpoint_id, delivery_id)
            return RedirectResponse(f"{back}?done=replayed", status_code=303)
        if action in ("enable", "disable"):
            with rt.engine.begin() as conn:
                status = "ENABLED" if action == "enable" else "DISABLED"
                endpoints.update_endpoint(rt, conn, env, endpoint_id, {"status": status})
                audit(
                    rt,
                    conn,
                    owner.live.session,
                    f"webhook.{action}d",
                    target=endpoint_id,
                    client_ip=owner.live.client_ip,
                )
            return RedirectResponse(f"{back}?done={action}d", status_code=303)
        if action == "rotate":
            with rt.engine.begin() as conn:
                if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                    return _detail(rt, owner, endpoint_id, status=409, error=ALREADY_SUBMITTED)
                _, secret = endpoints.rotate_secret(rt, conn, env.id, endpoint_id)
                audit(
                    rt,
                    conn,
                    owner.live.session,
                    "webhook.secret_rotated",
                    target=endpoint_id,
                    client_ip=owner.live.client_ip,
                )
            return _detail(rt, owner, endpoint_id, plain_secret=secret, rotated=True)
        if action == "delete":
            with rt.engine.begin() as conn:
                endpoints.delete_endpoint(conn, env.id, endpoint_id)
                audit(
                    rt, conn, owner.live.session, "webhook.deleted", target=endpoint_id, client_ip=owner.live.client_ip
                )
            return RedirectResponse("/dashboard/webhooks", status_code=303)
    except ApiError as exc:
        if exc.status == 404:
            return _list(rt, owner, status=404, error="That endpoint or delivery no longer exists.")
        return _detail(rt, owner, endpoint_id, status=exc.status, error=refusal_text(exc))
    return _detail(rt, owner, endpoint_id, status=400, error="Choose an action.")
