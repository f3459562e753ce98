"""Every dashboard page, mounted at /dashboard on each environment's host."""

from __future__ import annotations

from fastapi import APIRouter

from entryway.dashboard import (
    branding,
    checklist_page,
    credentials,
    custom_domain,
    logs,
    organizations,
    overview,
    portal_links,
    redirects,
    session,
    webhooks,
)

router = APIRouter()
for module in (
    session,
    overview,
    credentials,
    redirects,
    organizations,
    portal_links,
    logs,
    webhooks,
    branding,
    custom_domain,
    checklist_page,
):
    router.include_router(module.router)
