"""GET /environment/checklist: the production checklist of the caller's environment (docs/checklist.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from entryway.api.auth import Caller, require
from entryway.checklist.evaluate import evaluate
from entryway.web.requests import runtime

router = APIRouter()
READ = require("environment:read")


@router.get("/environment/checklist")
async def get_checklist(request: Request, caller: Caller = Depends(READ)) -> dict[str, Any]:
    # The rules resolve redirect hosts in DNS: off the event loop.
    report = await run_in_threadpool(evaluate, runtime(request), caller.environment, caller_client_id=caller.client.id)
    return {"checklist": report.to_dict()}
