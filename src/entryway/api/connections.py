"""SSO connections: /organizations/{org}/connections (CRUD, :enable, :disable) and /connections (search)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body
from entryway.api.inputs import ConnectionCreate, ConnectionUpdate
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.connectors.saml.metadata_import import prefetch
from entryway.connectors.saml.metadata_refresh import refresh_metadata
from entryway.connectors.saml.metadata_schedule import refresh_state
from entryway.model.connections import ConnectionType
from entryway.model.errors import FieldViolation, invalid
from entryway.services import connection_checks, connections, domains, organizations
from entryway.web.requests import runtime

router = APIRouter()
READ = require("connections:read")
WRITE = require("connections:write")


def _render(caller: Caller) -> Any:
    env_url = caller.environment.url
    return lambda conn: view.connection(conn, env_url)


@router.post("/organizations/{org_id}/connections", status_code=201)
def create_connection(
    request: Request,
    org_id: str,
    caller: Caller = Depends(WRITE),
    body: ConnectionCreate = Depends(json_body(ConnectionCreate)),
) -> dict[str, Any]:
    rt = runtime(request)
    given = body.model_dump(exclude_unset=True)
    allow_http = caller.environment.is_development
    fetched = prefetch(rt, allow_http=allow_http, saml_config=given.get("saml_config")) if body.type == "SAML" else None
    # The IdP is read before the transaction: a slow one must not hold the database.
    checked = connection_checks.check_before_create(rt, caller.environment, body.type, given.get("oidc_config"))
    with writing(rt) as conn:
        created = connections.create_connection(
            rt,
            conn,
            caller.environment,
            org_id,
            type=body.type,
            provider=body.provider,
            saml_config=given.get("saml_config"),
            oidc_config=given.get("oidc_config"),
            attribute_mapping=given.get("attribute_mapping"),
            fetched_metadata=fetched,
            provider_check=checked,
        )
    return {"connection": _render(caller)(created)}


@router.get("/organizations/{org_id}/connections")
def list_organization_connections(
    request: Request,
    org_id: str,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    page = page_request("connections", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        organizations.get_organization(conn, env_id, org_id)
        items = connections.list_connections(
            conn, env_id, organization_id=org_id, after_id=page.after, limit=page.fetch
        )
        total = connections.count_connections(conn, env_id, organization_id=org_id)
    return page.respond("connections", items, _render(caller), total)


@router.get("/connections")
def search_connections(
    request: Request,
    organization_id: str | None = None,
    domain: str | None = None,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    page = page_request("connections", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        org_id = organization_id or None
        if domain:
            found = domains.find_by_domain(conn, env_id, domain)
            if found is None or (org_id is not None and found.organization_id != org_id):
                return page.respond("connections", [], _render(caller), 0)
            org_id = found.organization_id
        elif domain is not None:
            raise invalid([FieldViolation("domain", "must not be empty")])
        items = connections.list_connections(
            conn, env_id, organization_id=org_id, after_id=page.after, limit=page.fetch
        )
        total = connections.count_connections(conn, env_id, organization_id=org_id)
    return page.respond("connections", items, _render(caller), total)


def _switch(request: Request, caller: Caller, org_id: str, connection_id: str, enabled: bool) -> dict[str, Any]:
    rt = runtime(request)
    env = caller.environment
    checked = connection_checks.check_before_enable(rt, env, connection_id, org_id=org_id) if enabled else None
    with writing(rt) as conn:
        changed = connections.set_enabled(rt, conn, env, connection_id, enabled, org_id=org_id, provider_check=checked)
    return {"connection": _render(caller)(changed)}


# The :enable / :disable routes come before /{connection_id}, whose parameter would otherwise swallow them.
@router.patch("/organizations/{org_id}/connections/{connection_id}:enable")
def enable_connection(
    request: Request, org_id: str, connection_id: str, caller: Caller = Depends(WRITE)
) -> dict[str, Any]:
    return _switch(request, caller, org_id, connection_id, True)


@router.patch("/organizations/{org_id}/connections/{connection_id}:disable")
def disable_connection(
    request: Request, org_id: str, connection_id: str, caller: Caller = Depends(WRITE)
) -> dict[str, Any]:
    return _switch(request, caller, org_id, connection_id, False)


@router.post("/organizations/{org_id}/connections/{connection_id}:refresh_metadata")
def refresh_connection_metadata(
    request: Request, org_id: str, connection_id: str, caller: Caller = Depends(WRITE)
) -> dict[str, Any]:
    """Fetch the connection's idp_metadata_url again and apply it; the change is in idp_metadata_changes."""
    changed = refresh_metadata(runtime(request), caller.environment, connection_id, org_id=org_id)
    return {"connection": _render(caller)(changed)}


@router.post("/organizations/{org_id}/connections/{connection_id}:check")
def check_connection(
    request: Request, org_id: str, connection_id: str, caller: Caller = Depends(READ)
) -> dict[str, Any]:
    """Read an OIDC connection's IdP now (discovery document and JWKS); 422 naming the field when it fails."""
    checked = connection_checks.check_stored(runtime(request), caller.environment, connection_id, org_id=org_id)
    return {"check": view.provider_check(checked)}


@router.get("/organizations/{org_id}/connections/{connection_id}")
def get_connection(request: Request, org_id: str, connection_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        found = connections.get_connection(conn, caller.environment.id, connection_id, org_id)
        refresh = refresh_state(conn, found.id) if found.type is ConnectionType.SAML else None
    item = _render(caller)(found)
    if refresh is not None:
        # the server's periodic metadata refresh: when next, and how the last attempt went
        item["saml_config"]["idp_metadata_refresh"] = refresh
    return {"connection": item}


@router.patch("/organizations/{org_id}/connections/{connection_id}")
def update_connection(
    request: Request,
    org_id: str,
    connection_id: str,
    caller: Caller = Depends(WRITE),
    body: ConnectionUpdate = Depends(json_body(ConnectionUpdate)),
) -> dict[str, Any]:
    rt = runtime(request)
    changes = body.model_dump(exclude_unset=True)
    env = caller.environment
    fetched = prefetch(rt, allow_http=env.is_development, saml_config=changes.get("saml_config"))
    checked = connection_checks.check_before_update(rt, env, connection_id, changes, org_id=org_id)
    with writing(rt) as conn:
        changed = connections.update_connection(
            rt, conn, env, connection_id, changes, org_id=org_id, fetched_metadata=fetched, provider_check=checked
        )
    return {"connection": _render(caller)(changed)}


@router.delete("/organizations/{org_id}/connections/{connection_id}")
def delete_connection(
    request: Request, org_id: str, connection_id: str, caller: Caller = Depends(WRITE)
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        connections.delete_connection(rt, conn, caller.environment.id, connection_id, org_id=org_id)
    return {}
