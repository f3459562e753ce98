"""What a transaction makes happen outside the database (a login counted in a metric) happens once it committed.

SQLAlchemy Core has no hook after a COMMIT: its `commit` event fires before the COMMIT is sent, so a COMMIT that
fails (a dropped connection, an instance killed before PostgreSQL answered) would still have had its effects.
`transaction(engine)` is `engine.begin()` that, once the COMMIT returned, runs what `after_commit(conn, ...)` was
given on its connection, in that order; when the block raises or the COMMIT fails, it runs none of it.

`after_commit` on a connection `transaction` did not open is a call site that forgot it. Two guards find one: the
type, since `transaction` yields a `Committing` connection and only that (or a write batch) is accepted by
`after_commit`, `write_batch.insert_row` with an effect and `auth_log.record`, so `mypy` (part of `make test`)
fails; and at run time, for code that hides the type, `strict`, which the test suite sets, so that such a call
raises and the test that reaches it fails. A server runs the effect at once instead (the old behaviour: a count
that a rollback may yet contradict) and warns once: a metric must never fail a login.
For the same reason an effect that raises is logged, not raised (`run_effect`): its transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NewType

from sqlalchemy import Connection, Engine

log = logging.getLogger("entryway.store")

OnCommit = Callable[[], None]

Committing = NewType("Committing", Connection)
"""A connection inside a transaction that `transaction` opened: the only kind `after_commit` (and so every writer of
a row with an effect, `write_batch.insert_row` and `auth_log.record`) accepts, so mypy finds a call site that
would hand it a plain `engine.begin()` connection. At run time it is the connection itself."""

strict = False  # tests/conftest.py sets it: a call site without `transaction` fails the test that reaches it
_warned = False

# The open transactions' pending effects, by connection: each entry lives only inside its `transaction` block, so
# the dict holds at most one entry per connection in use. One thread uses a connection at a time.
_pending: dict[Connection, list[OnCommit]] = {}


@contextmanager
def transaction(engine: Engine) -> Iterator[Committing]:
    """`engine.begin()`; once its COMMIT has returned, run what `after_commit` was given on the connection."""
    effects: list[OnCommit] = []
    with engine.begin() as conn:
        _pending[conn] = effects
        try:
            yield Committing(conn)
        finally:
            del _pending[conn]
    for effect in effects:
        run_effect(effect)


def run_effect(effect: OnCommit) -> None:
    """Run an effect of a stored, committed write. One that fails is logged and does not fail its step: the step's
    writes are committed (a login code consumed, a session ended), and a 500 now would undo none of them. Under
    `strict` (the tests) it raises, so a broken effect fails its test."""
    try:
        effect()
    except Exception:
        if strict:
            raise
        log.exception("an effect of a committed transaction failed (the transaction stands)")


def after_commit(conn: Committing, effect: OnCommit) -> None:
    """Run `effect` once the transaction `conn` is in has committed; never if it rolls back."""
    effects = _pending.get(conn)
    if effects is not None:
        effects.append(effect)
        return
    if strict:
        raise RuntimeError("after_commit needs a connection opened by store.after_commit.transaction(engine)")
    global _warned
    if not _warned:
        _warned = True
        log.warning("a transaction not opened by store.after_commit.transaction: its effects run before its commit")
    run_effect(effect)
