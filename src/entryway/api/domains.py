"""Organization domains: /organizations/{org}/domains, and their DNS TXT verification (…/{id}:verify)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body
from entryway.api.inputs import DomainCreate
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.services import domains, organizations
from entryway.web.requests import runtime

router = APIRouter()
READ = require("domains:read")
WRITE = require("domains:write")


@router.post("/organizations/{org_id}/domains", status_code=201)
def create_domain(
    request: Request,
    org_id: str,
    caller: Caller = Depends(WRITE),
    body: DomainCreate = Depends(json_body(DomainCreate)),
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        dom = domains.create_domain(
            rt, conn, caller.environment.id, org_id, domain=body.domain, domain_type=body.domain_type
        )
    return {"domain": view.domain(dom)}


@router.get("/organizations/{org_id}/domains")
def list_domains(
    request: Request,
    org_id: str,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    page = page_request("domains", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        organizations.get_organization(conn, env_id, org_id)
        items = domains.list_domains(conn, env_id, org_id, after_id=page.after, limit=page.fetch)
        total = domains.count_domains(conn, env_id, org_id)
    return page.respond("domains", items, view.domain, total)


@router.patch("/organizations/{org_id}/domains/{domain_id}:verify")
def verify_domain(request: Request, org_id: str, domain_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    dom, check = domains.verify_domain(runtime(request), caller.environment.id, org_id, domain_id)
    return {
        "domain": view.domain(dom),
        "verified": check.verified,
        "dns_check": {
            "record_name": check.record_name,
            "expected_value": check.expected_value,
            "found_values": check.found_values,
            "message": check.message,
        },
    }


@router.get("/organizations/{org_id}/domains/{domain_id}")
def get_domain(request: Request, org_id: str, domain_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        dom = domains.get_domain(conn, caller.environment.id, org_id, domain_id)
    return {"domain": view.domain(dom)}


@router.delete("/organizations/{org_id}/domains/{domain_id}")
def delete_domain(request: Request, org_id: str, domain_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    with writing(runtime(request)) as conn:
        domains.delete_domain(conn, caller.environment.id, org_id, domain_id)
    return {}
