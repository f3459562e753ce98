"""Organizations: /organizations, /organizations/{id}, /organizations:external/{external_id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body
from entryway.api.inputs import OrganizationCreate, OrganizationUpdate
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.services import organizations
from entryway.web.requests import runtime

router = APIRouter()
READ = require("organizations:read")
WRITE = require("organizations:write")


@router.post("/organizations", status_code=201)
def create_organization(
    request: Request,
    caller: Caller = Depends(WRITE),
    body: OrganizationCreate = Depends(json_body(OrganizationCreate)),
) -> dict[str, Any]:
    with writing(runtime(request)) as conn:
        org = organizations.create_organization(
            runtime(request), conn, caller.environment.id, **body.model_dump(exclude_unset=True)
        )
    return {"organization": view.organization(org)}


@router.get("/organizations")
def list_organizations(
    request: Request, page_size: str | None = None, page_token: str | None = None, caller: Caller = Depends(READ)
) -> dict[str, Any]:
    page = page_request("organizations", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        items = organizations.list_organizations(conn, env_id, after_id=page.after, limit=page.fetch)
        total = organizations.count_organizations(conn, env_id)
    return page.respond("organizations", items, view.organization, total)


@router.get("/organizations:external/{external_id}")
def get_by_external_id(request: Request, external_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        org = organizations.get_by_external_id(conn, caller.environment.id, external_id)
    return {"organization": view.organization(org)}


@router.get("/organizations/{org_id}")
def get_organization(request: Request, org_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        org = organizations.get_organization(conn, caller.environment.id, org_id)
    return {"organization": view.organization(org)}


@router.patch("/organizations/{org_id}")
def update_organization(
    request: Request,
    org_id: str,
    caller: Caller = Depends(WRITE),
    body: OrganizationUpdate = Depends(json_body(OrganizationUpdate)),
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        org = organizations.update_organization(
            rt, conn, caller.environment.id, org_id, body.model_dump(exclude_unset=True)
        )
    return {"organization": view.organization(org)}


@router.delete("/organizations/{org_id}")
def delete_organization(request: Request, org_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    with writing(runtime(request)) as conn:
        organizations.delete_organization(conn, caller.environment.id, org_id)
    return {}
