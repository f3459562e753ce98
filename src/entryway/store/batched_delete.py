"""Deleting many rows in batches, each batch its own short transaction.

The purges (expired login state, the auth log, old events) delete from tables that logins write to. One DELETE
of everything due, or many batches in one transaction, would hold row locks (and on SQLite the database's one
write lock) for as long as the whole purge takes, and logins would queue behind it. A batch here is one
statement, `DELETE FROM t WHERE due AND key IN (SELECT key FROM t WHERE due ORDER BY … LIMIT n)`, committed at
once; the same form on SQLite and PostgreSQL. `due` is checked again by the DELETE itself, so a row that stopped
being due between the two (an event whose delivery was replayed) stays.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, delete, select


def delete_in_batches(
    engine: Engine,
    table: Table,
    due: ColumnElement[bool],
    *,
    batch: int,
    order_by: Any = None,
    max_batches: int | None = None,
) -> int:
    """Delete the rows of `table` where `due` holds, `batch` at a time (oldest first by `order_by`, which should
    follow an index); stop after `max_batches` batches if given, leaving the rest for the next run. Returns how
    many rows went."""
    [key] = table.primary_key.columns  # one-column keys only: `IN (SELECT key …)` must name exactly the rows chosen
    chosen = select(key).where(due).limit(batch)
    if order_by is not None:
        chosen = chosen.order_by(order_by)
    statement = delete(table).where(due, key.in_(chosen))
    removed = batches = 0
    while max_batches is None or batches < max_batches:
        with engine.begin() as conn:
            gone = conn.execute(statement).rowcount
        removed += gone
        batches += 1
        if gone < batch:
            break
    return removed
