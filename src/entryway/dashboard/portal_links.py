"""Portal links page: per organization, make a shareable or embeddable link (its location shown once, with its
expiry), list the usable ones, revoke one (services/portal_links.py; docs/portal.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import organizations, portal_links
from entryway.services.portal_links import LinkType
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()
ORGS_SHOWN = 100
CREATED_BY = "dashboard"
KINDS = {
    LinkType.SHAREABLE.value: "Shareable — send it to the IT admin by email or chat; opens the portal any number of "
    "times for 7 days, until revoked",
    LinkType.EMBEDDABLE.value: "Embeddable — for framing the portal in your app; opens once, within 1 minute "
    "(your backend normally fetches one through the API just before showing the frame)",
}


def _index(rt: Runtime, owner: Owner, *, status: int = 200, error: str | None = None) -> Response:
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        orgs = organizations.list_organizations(conn, env_id, limit=ORGS_SHOWN)
        counts = {o.id: portal_links.count_links(rt, conn, env_id, o.id) for o in orgs}
        total = organizations.count_organizations(conn, env_id)
    return owner_page(
        owner,
        "dashboard/portal_links.html",
        "portal_links",
        {"orgs": orgs, "counts": counts, "total": total, "shown": ORGS_SHOWN},
        status=status,
        error=error,
    )


@router.get("/dashboard/portal-links")
def portal_links_index(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    return _index(runtime(request), owner)


def _page(
    rt: Runtime,
    owner: Owner,
    org_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    **extra: Any,
) -> Response:
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        org = organizations.find_organization(conn, env_id, org_id)
        if org is None:
            return _index(rt, owner, status=404, error="That organization does not exist (it may have been deleted).")
        links = portal_links.list_links(rt, conn, env_id, org_id)
    return owner_page(
        owner,
        "dashboard/org_portal_links.html",
        "portal_links",
        {"org": org, "links": links, "kinds": KINDS, **extra},
        status=status,
        notice=notice,
        error=error,
    )


@router.get("/dashboard/organizations/{org_id}/portal-links")
def organization_links(
    request: Request, org_id: str, done: str | None = None, owner: Owner = Depends(signed_in)
) -> Response:
    return _page(runtime(request), owner, org_id, notice=done)


@router.post("/dashboard/organizations/{org_id}/portal-links")
async def create(request: Request, org_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    kind = str(form.get("link_type") or "")
    if kind not in KINDS:
        return _page(rt, owner, org_id, status=400, error="Choose the kind of link: shareable or embeddable.")
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                return _page(rt, owner, org_id, status=409, error=ALREADY_SUBMITTED)
            link, location = portal_links.create_link(rt, conn, env, org_id, LinkType(kind), CREATED_BY)
            audit(
                rt,
                conn,
                owner.live.session,
                "portal_link.created",
                target=link.id,
                detail={"organization_id": org_id, "link_type": kind},
                client_ip=owner.live.client_ip,
            )
    except ApiError as exc:
        if exc.status == 404:
            return _index(rt, owner, status=404, error="That organization does not exist (it may have been deleted).")
        raise
    # Rendered, not redirected: the location exists only in this answer (only its hash is stored).
    return _page(rt, owner, org_id, made=link, location=location)


@router.post("/dashboard/organizations/{org_id}/portal-links/{link_id}/revoke")
async def revoke(request: Request, org_id: str, link_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    env_id = owner.live.env.id
    try:
        with rt.engine.begin() as conn:
            portal_links.revoke_link(rt, conn, env_id, org_id, link_id)
            audit(rt, conn, owner.live.session, "portal_link.revoked", target=link_id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        if exc.status == 404:
            return _page(rt, owner, org_id, status=404, error="That link does not exist in this organization.")
        raise
    return RedirectResponse(f"/dashboard/organizations/{org_id}/portal-links?done=link_revoked", status_code=303)
