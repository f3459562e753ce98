"""The management API router (mounted at /api/v1): one sub-router per resource, and a contract-shaped 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from entryway.api import (
    auth_logs,
    branding,
    checklist,
    client_secrets,
    connections,
    custom_domain,
    domains,
    environment,
    idempotency,
    openapi,
    organizations,
    portal_links,
    webhooks,
)
from entryway.api.rate_limit import rate_limit
from entryway.model.errors import ApiError, FieldViolation, invalid


def no_nul_characters(request: Request) -> None:
    """PostgreSQL text cannot hold U+0000: a path or query parameter with one is a 400, not a database error."""
    named = [*request.path_params.items(), *request.query_params.multi_items()]
    problems = [FieldViolation(name, "must not contain the NUL character") for name, value in named if "\x00" in value]
    if problems:
        raise invalid(problems)


router = APIRouter(dependencies=[Depends(no_nul_characters), Depends(rate_limit)])
for module in (
    organizations,
    domains,
    connections,
    portal_links,
    environment,
    branding,
    custom_domain,
    checklist,
    client_secrets,
    auth_logs,
    webhooks,
):
    openapi.describe(module.router)
    idempotency.apply(module.router)
    router.include_router(module.router)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown_call(request: Request, path: str) -> None:
    raise ApiError(404, f"There is no management API call {request.method} /api/v1/{path}")
