"""The answer to an error Entryway did not expect (a bug): still a contract error, with the request ID to quote.

Starlette would answer such an error with a bare "Internal Server Error" in text, whatever the caller: an app's
backend could not parse it, and a person had nothing to report. This answer is `server_error` in the caller's
shape (web/error_answers.py) and names the request ID, under which the server's log holds the traceback (Starlette
re-raises after answering, and the server logs it with the request's ID: observability/observed_app.py).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from entryway.observability.request_id import current_request_id
from entryway.web.error_answers import caller_shaped_error

CODE = "server_error"  # RFC 6749 §4.1.2.1; CONTRACT §3.5


def unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = current_request_id.get() or "unknown"
    message = (
        "Entryway met an error it did not expect and could not complete the request. Its operator's log holds the "
        f"cause under request ID {request_id}: quote it when you report this."
    )
    hint = "Try again in a moment. If it happens again, start the sign-in again from the app and report the ID."
    return caller_shaped_error(request, 500, CODE, "Something went wrong", message, hint, {"Cache-Control": "no-store"})
