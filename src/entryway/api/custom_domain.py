"""The environment's custom domain: GET/PUT/DELETE /environment/custom-domain and PATCH …/custom-domain:verify."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from entryway.api import custom_domain_views as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import Input, json_body
from entryway.api.transactions import reading, writing
from entryway.services import custom_domains
from entryway.services.environments import get_environment
from entryway.web.requests import runtime

router = APIRouter()
READ = require("environment:read")
WRITE = require("environment:write")


class CustomDomainBody(Input):
    domain: str


@router.get("/environment/custom-domain")
def get_custom_domain(request: Request, caller: Caller = Depends(READ)) -> dict[str, Any]:
    rt = runtime(request)
    with reading(rt) as conn:
        env = get_environment(conn, caller.environment.id)
    return {"custom_domain": view.custom_domain(rt.settings, env)}


@router.put("/environment/custom-domain")
def set_custom_domain(
    request: Request, caller: Caller = Depends(WRITE), body: CustomDomainBody = Depends(json_body(CustomDomainBody))
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        env = custom_domains.set_custom_domain(rt, conn, get_environment(conn, caller.environment.id), body.domain)
    return {"custom_domain": view.custom_domain(rt.settings, env)}


@router.patch("/environment/custom-domain:verify")
async def verify_custom_domain(request: Request, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    rt = runtime(request)
    # The DNS lookup blocks for up to a few seconds: off the event loop.
    env, check = await run_in_threadpool(custom_domains.verify_custom_domain, rt, caller.environment.id)
    return {
        "custom_domain": view.custom_domain(rt.settings, env),
        "verified": check.verified,
        "dns_check": view.dns_check(check),
    }


@router.delete("/environment/custom-domain")
def remove_custom_domain(request: Request, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        before = get_environment(conn, caller.environment.id)
        env = custom_domains.remove_custom_domain(rt, conn, before)
    return {"custom_domain": view.custom_domain(rt.settings, env, previous_url=before.public_url)}
