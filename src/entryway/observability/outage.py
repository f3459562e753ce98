"""The answer while the database cannot be reached, or makes a request wait past its bounds: 503 with
Retry-After, in the shape each caller reads.

Nothing was changed (the request's transaction never committed), so the caller may simply retry: the app's
backend reads a JSON error, the management API its contract body, a browser a page that says to try again.
SQLAlchemy has already discarded the pool's connections when it saw a disconnect, so the first request after the
database returns opens fresh ones: no restart of Entryway is needed. A statement PostgreSQL cut short on its lock
or statement timeout (store/server_timeouts.py) is no disconnect: the pool is kept, and the answer says the
database is busy rather than unavailable.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway.observability.database_failures import failure_kind
from entryway.observability.json_logs import redacted_target
from entryway.runtime import Runtime
from entryway.services.branding import DEFAULT_BRANDING, Branding
from entryway.web.error_answers import caller_shaped_error

log = logging.getLogger("entryway.database")

RETRY_AFTER_SECONDS = 2
CODE = "temporarily_unavailable"  # RFC 6749 §4.1.2.1
MESSAGE = "Entryway's database is unavailable right now; nothing was changed. Retry in a few seconds."
# A statement that waited past lock_timeout or statement_timeout: the database answers, but is held up.
BUSY_MESSAGE = "Entryway's database is busy right now; nothing was changed. Retry in a few seconds."


def database_unavailable(rt: Runtime, request: Request, exc: DBAPIError | PoolTimeout) -> Response:
    """The database refused or dropped the connection (OperationalError, or another driver error SQLAlchemy took
    as a disconnect), cut a statement short on its lock or statement timeout, or every connection of this
    process's pool stayed taken for POOL_TIMEOUT_SECONDS (SQLAlchemy's TimeoutError): either way nothing was
    done."""
    path = redacted_target(request.url.path)
    message = MESSAGE
    # The app's handlers pass only the database's conditions (an OperationalError, a pool timeout, a disconnect).
    kind = failure_kind(exc) or "unreachable"
    if isinstance(exc, PoolTimeout):
        log.error("database connections exhausted", extra={"reason": "PoolTimeout", "path": path})
    else:
        # The driver's class name says what happened (refused, reset, shutting down, LockNotAvailable,
        # QueryCanceled) without any query or value.
        reason = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        if kind == "timeout":
            message = BUSY_MESSAGE
            log.error("database busy: a statement waited past its timeout", extra={"reason": reason, "path": path})
        else:
            log.error("database unavailable", extra={"reason": reason, "path": path})
    rt.metrics.database_unavailable.labels(kind).inc()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    hint = "Your sign-in was not lost: go back and submit again, or start the sign-in again from the app."
    # The page shows the default branding: the environment's is in the database, and asking for it would make
    # the answer wait once more (for a connection that will not come: up to the connect or the pool timeout) only
    # to show the defaults all the same.
    return unavailable_answer(request, "Try again in a moment", message, hint, headers, DEFAULT_BRANDING)


def unavailable_answer(
    request: Request, title: str, message: str, hint: str, headers: dict[str, str], branding: Branding | None = None
) -> Response:
    """A 503 temporarily_unavailable in the shape the caller reads (web/error_answers.py)."""
    return caller_shaped_error(request, 503, CODE, title, message, hint, headers, branding)
