"""An error answer in the shape its caller reads: the management API's contract body, OAuth's JSON error for the
endpoints an app's backend calls, a page for a browser. Used where no endpoint chose the answer itself: the
database outage (observability/outage.py) and an error Entryway did not expect (observability/unexpected.py)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from entryway.model.errors import ApiError
from entryway.services.branding import Branding
from entryway.web.pages import error_page

# The endpoints an app's backend calls: they answer in OAuth's JSON error shape.
BACKEND_PATHS = ("/oauth/token", "/userinfo", "/keys", "/.well-known/openid-configuration")


def caller_shaped_error(
    request: Request,
    status: int,
    code: str,
    title: str,
    message: str,
    hint: str,
    headers: dict[str, str],
    branding: Branding | None = None,
) -> Response:
    """`branding` for a page: given, it is not looked up (the environment's own otherwise)."""
    path = request.url.path
    if path.startswith("/api/"):
        return JSONResponse(ApiError(status, message).body(), status_code=status, headers=headers)
    if path in BACKEND_PATHS:
        return JSONResponse({"error": code, "error_description": message}, status_code=status, headers=headers)
    page = error_page(title, message, code=code, status=status, hint=hint, branding=branding)
    page.headers.update(headers)
    return page
