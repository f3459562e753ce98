"""One transaction per management call: bad input raises before anything is committed, so nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from entryway.model.errors import ApiError
from entryway.runtime import Runtime


@contextmanager
def writing(rt: Runtime) -> Iterator[Connection]:
    """A write transaction. A unique-constraint race lost to a concurrent writer is a 409, not a 500."""
    try:
        with rt.engine.begin() as conn:
            yield conn
    except IntegrityError as exc:
        raise ApiError(409, "The change conflicts with an existing resource; reload it and retry") from exc


@contextmanager
def reading(rt: Runtime) -> Iterator[Connection]:
    with rt.engine.connect() as conn:
        yield conn
