"""The browser's redirects through a login or logout: 302s that no cache may keep, as they carry codes or state."""

from __future__ import annotations

from starlette.responses import RedirectResponse


def no_store_redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
