"""The caller's environment: /environment, its redirect-URI allow-lists and its initiate-login URL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import representations as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import json_body, optional_json_body
from entryway.api.inputs import EnvironmentUpdate, InitiateLoginBody, RedirectUriBody
from entryway.api.transactions import reading, writing
from entryway.model.environments import RedirectKind
from entryway.model.errors import FieldViolation, invalid
from entryway.services import environments
from entryway.web.requests import runtime

router = APIRouter()
READ = require("environment:read")
WRITE = require("environment:write")


@router.get("/environment")
def get_environment(request: Request, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        env = environments.get_environment(conn, caller.environment.id)
        updated = environments.environment_update_time(conn, env.id)
    return {"environment": view.environment(env, updated)}


@router.patch("/environment")
def update_environment(
    request: Request,
    caller: Caller = Depends(WRITE),
    body: EnvironmentUpdate | None = Depends(optional_json_body(EnvironmentUpdate)),
) -> dict[str, Any]:
    rt = runtime(request)
    given = body.model_dump(exclude_unset=True) if body is not None else {}
    with writing(rt) as conn:
        if "display_name" in given:
            env = environments.update_environment(rt, conn, caller.environment.id, display_name=given["display_name"])
        else:
            env = environments.get_environment(conn, caller.environment.id)
        updated = environments.environment_update_time(conn, env.id)
    return {"environment": view.environment(env, updated)}


@router.get("/environment/redirect-uris")
def list_redirect_uris(request: Request, kind: str | None = None, caller: Caller = Depends(READ)) -> dict[str, Any]:
    wanted = _kind(kind, allow_initiate=True) if kind else None
    with reading(runtime(request)) as conn:
        uris = environments.list_redirect_uris(conn, caller.environment.id, wanted)
    # At most 5 callback, 10 post-logout and 1 initiate-login URL: one page always holds them all.
    return {"redirect_uris": [view.redirect_uri(u) for u in uris], "next_page_token": "", "total_size": len(uris)}


@router.post("/environment/redirect-uris", status_code=201)
def add_redirect_uri(
    request: Request, caller: Caller = Depends(WRITE), body: RedirectUriBody = Depends(json_body(RedirectUriBody))
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        env = environments.get_environment(conn, caller.environment.id)
        added = environments.add_redirect_uri(rt, conn, env, RedirectKind(body.kind), body.uri)
    return {"redirect_uri": view.redirect_uri(added)}


@router.delete("/environment/redirect-uris")
def remove_redirect_uri(
    request: Request,
    uri: str | None = None,
    kind: str | None = None,
    caller: Caller = Depends(WRITE),
    body: RedirectUriBody | None = Depends(optional_json_body(RedirectUriBody)),
) -> dict[str, Any]:
    """The URI to remove comes in the JSON body, or as ?uri=&kind= for clients that send no DELETE body."""
    if body is not None:
        uri, chosen = body.uri, RedirectKind(body.kind)
    elif uri:
        chosen = _kind(kind or "callback", allow_initiate=False)
    else:
        raise invalid([FieldViolation("uri", "is required (in the JSON body or as ?uri=)")])
    rt = runtime(request)
    with writing(rt) as conn:
        env = environments.get_environment(conn, caller.environment.id)
        environments.remove_redirect_uri(rt, conn, env, chosen, uri)
    return {}


@router.put("/environment/initiate-login-uri")
def set_initiate_login_uri(
    request: Request, caller: Caller = Depends(WRITE), body: InitiateLoginBody = Depends(json_body(InitiateLoginBody))
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        env = environments.get_environment(conn, caller.environment.id)
        current = environments.set_initiate_login_uri(rt, conn, env, body.uri)
    return {"redirect_uri": view.redirect_uri(current)}


@router.delete("/environment/initiate-login-uri")
def clear_initiate_login_uri(request: Request, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        env = environments.get_environment(conn, caller.environment.id)
        for current in environments.list_redirect_uris(conn, env.id, RedirectKind.INITIATE_LOGIN):
            environments.remove_redirect_uri(rt, conn, env, RedirectKind.INITIATE_LOGIN, current.uri)
    return {}


def _kind(text: str, *, allow_initiate: bool) -> RedirectKind:
    allowed = ["callback", "post_logout"] + (["initiate_login"] if allow_initiate else [])
    if text not in allowed:
        raise invalid([FieldViolation("kind", f"must be one of {', '.join(allowed)}")])
    return RedirectKind(text)
