"""Credentials page: the app client's secrets — generate (shown once), deactivate, reactivate, delete."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()


def _show(rt: Runtime, owner: Owner, *, status: int = 200, notice: str | None = None, **extra: object) -> Response:
    env = owner.live.env
    with rt.engine.connect() as conn:
        client_id = environments.app_client_id(conn, env.id)
        secrets = credentials.list_secrets(conn, client_id)
    return owner_page(
        owner,
        "dashboard/credentials.html",
        "credentials",
        {"client_id": client_id, "secrets": secrets, "now": rt.clock.now(), **extra},
        status=status,
        notice=notice,
        error=extra.get("error"),  # type: ignore[arg-type]
    )


@router.get("/dashboard/credentials")
def credentials_page(request: Request, done: str | None = None, owner: Owner = Depends(signed_in)) -> Response:
    return _show(runtime(request), owner, notice=done)


def _expiry(text: str, now: datetime) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, "The expiry must be a date (YYYY-MM-DD).") from exc
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value <= now:
        raise ApiError(400, "The expiry must be in the future.")
    return value


@router.post("/dashboard/credentials/secrets")
async def generate(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    env = owner.live.env
    try:
        expires_text = str(form.get("expire_date") or "").strip()
        expire_time = _expiry(expires_text, rt.clock.now()) if expires_text else None
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                return _show(rt, owner, status=409, error=ALREADY_SUBMITTED)
            client = credentials.environment_client(conn, env.id, environments.app_client_id(conn, env.id))
            plain, secret = credentials.create_secret(rt, conn, client, expire_time=expire_time, created_by=owner.email)
            audit(rt, conn, owner.live.session, "secret.created", target=secret.id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        return _show(rt, owner, status=400, error=exc.message)
    return _show(rt, owner, plain_secret=plain, new_secret_id=secret.id)


@router.post("/dashboard/credentials/secrets/{secret_id}")
async def change(request: Request, secret_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    action = str(form.get("action") or "")
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            client = credentials.environment_client(conn, env.id, environments.app_client_id(conn, env.id))
            if action == "delete":
                credentials.delete_secret(conn, client, secret_id)
                done = "secret_deleted"
            elif action in ("deactivate", "activate"):
                status = "INACTIVE" if action == "deactivate" else "ACTIVE"
                credentials.set_secret_status(rt, conn, client, secret_id, status)
                done = "secret_deactivated" if action == "deactivate" else "secret_activated"
            else:
                return _show(rt, owner, status=400, error="Choose deactivate, activate or delete.")
            audit(rt, conn, owner.live.session, f"secret.{action}", target=secret_id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        if exc.status == 404:
            return _show(
                rt, owner, status=404, error="That secret no longer exists (it may have been deleted already)."
            )
        return _show(rt, owner, status=exc.status, error=exc.message)
    return RedirectResponse(f"/dashboard/credentials?done={done}", status_code=303)
