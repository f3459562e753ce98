"""Routing for the protocol endpoints at less CPU than FastAPI's defaults (bench/README.md, "Where a login's CPU
goes"): about 0.2 ms of a login's four requests, measured in process.

FastAPI 0.165 keeps an included router as a node of the route tree, and a request walks a node's routes once to
choose it and again to dispatch into it, at each level of nesting. The protocol routers' routes are therefore
put in the app's own route list, where each is tried once, in the order include_router would have tried them.

The login steps' endpoints take the Request alone; as FastAPI routes they would still pay for dependency solving
and FastAPI's response handling, which do nothing for them. `plain_route` declares them as Starlette routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def plain_route(router: APIRouter, path: str, method: str) -> Callable[[Endpoint], Endpoint]:
    """Register `endpoint(request)` for one method on `router`, without FastAPI's per-request machinery.

    Path parameters are in `request.path_params`. The route is never in the OpenAPI document."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_route(path, endpoint, methods=[method], include_in_schema=False)
        route = router.routes[-1]
        assert isinstance(route, Route)
        # Starlette answers HEAD on every GET route; a FastAPI route answered 405, and a HEAD must not start a
        # login (GET /oauth/authorize stores an auth request).
        route.methods = {method}
        return endpoint

    return register


def add_routes_flat(target: FastAPI | APIRouter, router: APIRouter) -> None:
    """Add `router`'s routes to `target`'s own list (the app's, or a router's that is itself added flat), as
    include_router(router, include_in_schema=False) would serve them, for a router without prefix or
    dependencies whose routes are all left out of the schema."""
    for route in router.routes:
        if not isinstance(route, Route):  # FastAPI's APIRoute is one too
            raise TypeError(f"{route!r}: only routes can be added flat, not included routers or mounts")
        if route.include_in_schema:
            raise ValueError(f"{route.path}: a protocol route is never in the OpenAPI document")
    if router.prefix or router.dependencies:
        raise ValueError("a router with a prefix or dependencies must be included, not added flat")
    (target.router if isinstance(target, FastAPI) else target).routes.extend(router.routes)
