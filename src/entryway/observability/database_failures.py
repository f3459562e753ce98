"""Which database failure a request met, in the closed set the 503 metric counts by and /readyz reports from."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway.store.server_timeouts import timed_out

FailureKind = Literal["unreachable", "timeout", "pool_exhausted"]


def failure_kind(exc: BaseException) -> FailureKind | None:
    """The kind of a database failure: "pool_exhausted" (no pooled connection came free), "timeout" (PostgreSQL
    cut a statement short on its lock or statement timeout), "unreachable" (no connection, or one lost: an
    OperationalError, or another driver error SQLAlchemy took as a disconnect), or None: not the database's
    condition, a defect."""
    if isinstance(exc, PoolTimeout):
        return "pool_exhausted"
    if timed_out(exc):
        return "timeout"
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return "unreachable"
    return None
