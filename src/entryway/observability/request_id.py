"""A request ID for every request: taken from `X-Request-ID` when it is sane, made otherwise, echoed back,
and put in a context variable so every log line of the request carries it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

current_request_id: ContextVar[str | None] = ContextVar("entryway_request_id", default=None)

# A caller's ID is kept only if it cannot smuggle anything into a log line or a header. Matched with fullmatch:
# `$` would also match before a trailing newline, and keep "abc\n".
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
HEADER = b"x-request-id"


def choose_request_id(given: str | None) -> str:
    if given and _SANE.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER), None)
        request_id = choose_request_id(given)
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                headers.append((HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        # Not reset when the app raises: the server logs the traceback after this returns, in this request's own
        # task (uvicorn gives each request a task in a fresh context, so nothing leaks to the next request), and
        # that line must carry the ID.
        await self.app(scope, receive, send_with_id)
        current_request_id.reset(token)
