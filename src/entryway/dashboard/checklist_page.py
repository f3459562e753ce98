"""The production checklist page (the rules are entryway.checklist's; docs/checklist.md explains each)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from entryway.checklist.evaluate import evaluate
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.web.requests import runtime

router = APIRouter()


@router.get("/dashboard/checklist")
async def checklist_page(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    report = await run_in_threadpool(evaluate, runtime(request), owner.live.env)
    return owner_page(owner, "dashboard/checklist.html", "checklist", {"report": report})
