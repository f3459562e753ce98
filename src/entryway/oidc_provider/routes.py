"""The app-facing OpenID Provider's routes, mounted at the root: one module per endpoint."""

from fastapi import APIRouter

from entryway.oidc_provider import authorize, discovery, logout, token, userinfo

router = APIRouter()
for endpoint in (discovery, authorize, token, userinfo, logout):
    router.include_router(endpoint.router)
