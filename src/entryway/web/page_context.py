"""The request a page is being rendered for, in a context variable, so that `render` can brand any page.

Error pages are built deep inside protocol code that never sees the HTTP request; rather than thread the
request through every signature, this middleware records the ASGI scope and `render` reads it back.
"""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

_current_scope: ContextVar[Scope | None] = ContextVar("entryway_page_scope", default=None)


class PageContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current_scope.set(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_scope.reset(token)


def current_request() -> Request | None:
    """The request being served (headers, client and state only: its body belongs to the handler)."""
    scope = _current_scope.get()
    return Request(scope) if scope is not None else None
