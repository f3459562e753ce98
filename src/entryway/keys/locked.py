"""An instance whose master keys cannot open the stored secrets: said once, loudly, at start, and answered
with a 503 (never a 500) by every request that needs a secret.

Such an instance still starts, because in a master-key rotation (docs/deployment.md) an instance given the
wrong keys must stay visible as not ready (`/readyz`: "secrets": "locked") rather than crash-loop; the load
balancer keeps traffic away from it, and a request that reaches it anyway gets an answer that says why.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from entryway.keys.sealing import SealError
from entryway.observability.json_logs import redacted_target
from entryway.observability.outage import unavailable_answer
from entryway.runtime import Runtime

log = logging.getLogger("entryway.keys")

MESSAGE = (
    "This Entryway instance cannot open a stored secret it needs (most often: it was not given the master key "
    "the secrets are encrypted under); nothing was changed. Retry: another instance may serve the request."
)


def report_if_locked(rt: Runtime) -> None:
    """At start: log an error naming the master key the data keys need, if this process lacks it."""
    try:
        problem = rt.sealer.lock_problem()
    except SQLAlchemyError:
        return  # the database is down or not migrated yet: /readyz says so, and the check runs there again
    if problem is not None:
        log.error("stored secrets are locked: %s, and restart this instance; /readyz answers 503 until then", problem)


def secrets_unavailable(request: Request, exc: SealError) -> Response:
    # The SealError's text names data keys and master key ids (hashes), never key material or a secret.
    log.error("a stored secret could not be opened: %s", exc, extra={"path": redacted_target(request.url.path)})
    hint = "The service is misconfigured; its operator has been told. Try again later, or start again from the app."
    return unavailable_answer(request, "Sign-in is unavailable", MESSAGE, hint, {"Cache-Control": "no-store"})
