"""The app-facing OpenID Provider's routes, mounted at the root: one module per endpoint."""

from fastapi import APIRouter

from entryway.oidc_provider import authorize, discovery, logout, token, userinfo
from entryway.web.routing import add_routes_flat

# The endpoints' routes in one flat list rather than included routers: see web/routing.py.
router = APIRouter(include_in_schema=False)
for endpoint in (discovery, authorize, token, userinfo, logout):
    add_routes_flat(router, endpoint.router)
