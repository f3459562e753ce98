"""The dashboard's first page: the environment's URL and the app's .env values, today's logins, the checklist."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from entryway.checklist.evaluate import evaluate
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.services import environments
from entryway.services.auth_log_search import LogFilter, timeline
from entryway.web.requests import runtime

router = APIRouter()


@router.get("/dashboard")
async def overview(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    env = owner.live.env
    now = rt.clock.now()
    with rt.engine.connect() as conn:
        client_id = environments.app_client_id(conn, env.id)
        day = timeline(conn, LogFilter(env.id), start=now - timedelta(hours=24), end=now, buckets=1)[0]
    report = await run_in_threadpool(evaluate, rt, env)
    return owner_page(
        owner,
        "dashboard/overview.html",
        "overview",
        {"client_id": client_id, "day": day, "report": report},
    )
