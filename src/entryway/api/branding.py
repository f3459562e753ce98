"""Branding: /environment/branding, /environment/branding:preview and /organizations/{id}/branding.

Images travel base64-encoded in JSON (bodies up to 512 KiB here). Invalid input is a 400 naming every bad
field and changes nothing; a hard-to-read accent colour is saved and answered with `warnings`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import branding_views as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body
from entryway.api.branding_inputs import (
    BRANDING_BODY_BYTES,
    BrandingPreview,
    BrandingUpdate,
    OrganizationBrandingUpdate,
)
from entryway.api.transactions import reading, writing
from entryway.model.branding_input import BrandingChange, check_branding_change
from entryway.model.colors import contrast_warnings
from entryway.services import branding_updates as updates
from entryway.services.branding import load_branding
from entryway.services.organizations import get_organization
from entryway.web.branding_preview import preview_page
from entryway.web.requests import runtime

router = APIRouter()
ENV_READ = require("environment:read")
ENV_WRITE = require("environment:write")
ORG_READ = require("organizations:read")
ORG_WRITE = require("organizations:write")


def _change(body: BrandingUpdate | OrganizationBrandingUpdate | None, fields: tuple[str, ...]) -> BrandingChange:
    given = body.model_dump(exclude_unset=True) if body is not None else {}
    return check_branding_change(given, allowed=fields)


@router.get("/environment/branding")
def get_environment_branding(request: Request, caller: Caller = Depends(ENV_READ)) -> dict[str, Any]:
    env = caller.environment
    with reading(runtime(request)) as conn:
        stored = updates.get_environment_branding(conn, env.id)
        effective = load_branding(conn, env.id)
    return {
        "branding": view.environment_branding(env.url, stored, effective),
        "warnings": view.warnings(contrast_warnings(effective.accent_color)),
    }


@router.patch("/environment/branding")
def update_environment_branding(
    request: Request,
    caller: Caller = Depends(ENV_WRITE),
    body: BrandingUpdate = Depends(json_body(BrandingUpdate, max_bytes=BRANDING_BODY_BYTES)),
) -> dict[str, Any]:
    rt, env = runtime(request), caller.environment
    change = _change(body, updates.ENVIRONMENT_FIELDS)
    with writing(rt) as conn:
        stored = updates.update_environment_branding(rt, conn, env.id, change)
        effective = load_branding(conn, env.id)
    return {
        "branding": view.environment_branding(env.url, stored, effective),
        "warnings": view.warnings(contrast_warnings(effective.accent_color)),
    }


@router.get("/organizations/{organization_id}/branding")
def get_organization_branding(
    request: Request, organization_id: str, caller: Caller = Depends(ORG_READ)
) -> dict[str, Any]:
    env = caller.environment
    with reading(runtime(request)) as conn:
        get_organization(conn, env.id, organization_id)
        stored = updates.get_organization_branding(conn, env.id, organization_id)
        effective = load_branding(conn, env.id, organization_id)
    return {"branding": view.organization_branding(env.url, organization_id, stored, effective)}


@router.patch("/organizations/{organization_id}/branding")
def update_organization_branding(
    request: Request,
    organization_id: str,
    caller: Caller = Depends(ORG_WRITE),
    body: OrganizationBrandingUpdate = Depends(json_body(OrganizationBrandingUpdate, max_bytes=BRANDING_BODY_BYTES)),
) -> dict[str, Any]:
    rt, env = runtime(request), caller.environment
    change = _change(body, updates.ORGANIZATION_FIELDS)
    with writing(rt) as conn:
        get_organization(conn, env.id, organization_id)
        stored = updates.update_organization_branding(rt, conn, env.id, organization_id, change)
        effective = load_branding(conn, env.id, organization_id)
    return {"branding": view.organization_branding(env.url, organization_id, stored, effective)}


@router.post("/environment/branding:preview")
def preview_branding(
    request: Request,
    caller: Caller = Depends(ENV_READ),
    body: BrandingPreview = Depends(json_body(BrandingPreview, max_bytes=BRANDING_BODY_BYTES)),
) -> Any:
    """A hosted page drawn with unsaved branding (nothing is stored). JSON by default; `Accept: text/html`
    gives the page itself."""
    env = caller.environment
    env_change = _change(body.branding, updates.ENVIRONMENT_FIELDS)
    org_change = _change(body.organization_branding, updates.ORGANIZATION_FIELDS)
    with reading(runtime(request)) as conn:
        if body.organization_id is not None:
            get_organization(conn, env.id, body.organization_id)
        branding = updates.preview_branding(conn, env.id, env_change, body.organization_id, org_change)
    page = preview_page(body.page, branding)
    found = contrast_warnings(branding.accent_color)
    if "text/html" in request.headers.get("accept", ""):
        return page
    return {
        "preview": {
            "page": body.page,
            "html": bytes(page.body).decode("utf-8"),
            "branding": view.resolved(env.url, branding),
        },
        "warnings": view.warnings(found),
    }
