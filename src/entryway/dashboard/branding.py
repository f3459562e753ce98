"""Branding page: the environment's name, accent colour, logo and favicon, with a live preview of a hosted
page (the error page users meet) drawn with the values as they are typed, before anything is saved."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from entryway.dashboard.messages import refusal_text
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.branding_input import UNSET, check_branding_change
from entryway.model.colors import contrast_warnings
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import branding_updates as updates
from entryway.services.branding import load_branding
from entryway.web.branding_preview import preview_page
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()
PREVIEW_PAGES = ("error", "sample", "signed_out")
MAX_UPLOAD = 512 * 1024


def _show(
    rt: Runtime,
    owner: Owner,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        stored = updates.get_environment_branding(conn, env_id)
        effective = load_branding(conn, env_id)
    warnings = [w.description for w in contrast_warnings(effective.accent_color)]
    return owner_page(
        owner,
        "dashboard/branding.html",
        "branding",
        {"stored": stored, "effective": effective, "warnings": warnings, "typed": typed or {}},
        status=status,
        error=error,
        notice="branding_saved" if notice == "saved" else None,
    )


@router.get("/dashboard/branding")
def branding_page(request: Request, done: str | None = None, owner: Owner = Depends(signed_in)) -> Response:
    return _show(runtime(request), owner, notice=done)


@router.get("/dashboard/branding/preview")
def preview(
    request: Request,
    page: str = "error",
    display_name: str | None = None,
    accent_color: str | None = None,
    owner: Owner = Depends(signed_in),
) -> Response:
    given: dict[str, Any] = {}
    if display_name:
        given["display_name"] = display_name
    if accent_color:
        given["accent_color"] = accent_color
    change = check_branding_change(given, allowed=updates.ENVIRONMENT_FIELDS)
    # A value still being typed (#12) is not an error here: the preview keeps the stored one until it parses.
    for violation in change.violations:
        setattr(change, violation.field, UNSET)
    change.violations.clear()
    rt = runtime(request)
    with rt.engine.connect() as conn:
        branding = updates.preview_branding(conn, owner.live.env.id, change)
    response = preview_page(page if page in PREVIEW_PAGES else "error", branding)
    # Framed by the dashboard's own branding page, and by nothing else.
    csp = response.headers["Content-Security-Policy"].replace("frame-ancestors 'none'", "frame-ancestors 'self'")
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


async def _image_field(form: Any, name: str) -> str | None:
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiError(400, f"The {name} is larger than 512 KiB.")
    return base64.b64encode(data).decode("ascii")


@router.post("/dashboard/branding")
async def save(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    typed = {k: str(form.get(k) or "").strip() for k in ("display_name", "accent_color")}
    given: dict[str, Any] = {k: v for k, v in typed.items() if v}
    try:
        for name in ("logo", "favicon"):
            encoded = await _image_field(form, name)
            if encoded is not None:
                given[name] = encoded
            elif form.get(f"remove_{name}"):
                given[name] = None
        if not given:
            return _show(rt, owner, status=400, error="Change at least one field before saving.", typed=typed)
        change = check_branding_change(given, allowed=updates.ENVIRONMENT_FIELDS)
        with rt.engine.begin() as conn:
            updates.update_environment_branding(rt, conn, owner.live.env.id, change)
            audit(
                rt,
                conn,
                owner.live.session,
                "branding.updated",
                detail={"fields": sorted(given)},
                client_ip=owner.live.client_ip,
            )
    except ApiError as exc:
        return _show(rt, owner, status=exc.status, error=refusal_text(exc), typed=typed)
    return RedirectResponse("/dashboard/branding?done=saved", status_code=303)
