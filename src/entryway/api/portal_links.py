"""Portal links: PUT / GET /organizations/{org}/portal_links, DELETE …/portal_links/{id} (CONTRACT §5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import optional_json_body
from entryway.api.inputs import PortalLinkCreate
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.services import portal_links
from entryway.services.portal_links import LinkType
from entryway.web.requests import runtime

router = APIRouter()
READ = require("portal_links:read")
WRITE = require("portal_links:write")


@router.put("/organizations/{org_id}/portal_links")
def create_portal_link(
    request: Request,
    org_id: str,
    caller: Caller = Depends(WRITE),
    body: PortalLinkCreate | None = Depends(optional_json_body(PortalLinkCreate)),
) -> dict[str, Any]:
    """A new link; its `location` is shown this once (only a hash is kept). EMBEDDABLE unless asked otherwise,
    as the Scalekit SDKs' generate_portal_link (no body) is used to frame the portal."""
    rt = runtime(request)
    link_type = LinkType(body.link_type) if body is not None and body.link_type else LinkType.EMBEDDABLE
    with writing(rt) as conn:
        link, location = portal_links.create_link(rt, conn, caller.environment, org_id, link_type, caller.client.id)
    return {"link": view.portal_link(link, location)}


@router.get("/organizations/{org_id}/portal_links")
def list_portal_links(
    request: Request,
    org_id: str,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    page = page_request("portal_links", page_size, page_token)
    rt = runtime(request)
    env_id = caller.environment.id
    with reading(rt) as conn:
        items = portal_links.list_links(rt, conn, env_id, org_id, after_id=page.after, limit=page.fetch)
        total = portal_links.count_links(rt, conn, env_id, org_id)
    return page.respond("links", items, lambda link: view.portal_link(link, None), total)


@router.delete("/organizations/{org_id}/portal_links/{link_id}")
def revoke_portal_link(request: Request, org_id: str, link_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        portal_links.revoke_link(rt, conn, caller.environment.id, org_id, link_id)
    return {}
