"""Client secrets: /clients/{client_id}/secrets. A plain secret is returned once, at creation; hashes never.

A caller may manage the secrets of a client only if it holds every scope that client holds: otherwise an API
client limited to a few scopes could mint a secret for the app client, which holds them all.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body, optional_json_body
from entryway.api.inputs import SecretCreate, SecretStatus
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.model.errors import ApiError
from entryway.services import credentials
from entryway.services.credentials import Client
from entryway.web.requests import runtime

router = APIRouter()
READ = require("clients:read")
WRITE = require("clients:write")


def _target(conn: Any, caller: Caller, client_id: str) -> Client:
    client = credentials.environment_client(conn, caller.environment.id, client_id)
    if not caller.holds_all(client.scopes):
        raise ApiError(403, f"Client {client_id} holds scopes this access token does not: it cannot manage its secrets")
    return client


@router.post("/clients/{client_id}/secrets", status_code=201)
def create_secret(
    request: Request,
    client_id: str,
    caller: Caller = Depends(WRITE),
    body: SecretCreate | None = Depends(optional_json_body(SecretCreate)),
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        client = _target(conn, caller, client_id)
        plain, created = credentials.create_secret(
            rt,
            conn,
            client,
            expire_time=body.expire_time if body is not None else None,
            created_by=f"api:{caller.client.id}",
        )
    return {"plain_secret": plain, "secret": view.secret(created)}


@router.get("/clients/{client_id}/secrets")
def list_secrets(
    request: Request,
    client_id: str,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    page = page_request("secrets", page_size, page_token)
    with reading(runtime(request)) as conn:
        client = credentials.environment_client(conn, caller.environment.id, client_id)
        every = sorted(credentials.list_secrets(conn, client.id), key=lambda s: s.id)
    after = [s for s in every if page.after is None or s.id > page.after]
    return page.respond("secrets", after[: page.fetch], view.secret, len(every))


@router.put("/clients/{client_id}/secrets/{secret_id}")
def set_secret_status(
    request: Request,
    client_id: str,
    secret_id: str,
    caller: Caller = Depends(WRITE),
    body: SecretStatus = Depends(json_body(SecretStatus)),
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        client = _target(conn, caller, client_id)
        changed = credentials.set_secret_status(rt, conn, client, secret_id, body.status)
    return {"secret": view.secret(changed)}


@router.delete("/clients/{client_id}/secrets/{secret_id}")
def delete_secret(request: Request, client_id: str, secret_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    with writing(runtime(request)) as conn:
        client = _target(conn, caller, client_id)
        credentials.delete_secret(conn, client, secret_id)
    return {}
