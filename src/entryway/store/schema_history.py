"""The schema_history table: each applied migration and whether the previous release's code survives it.

Every migration script declares `backward_compatible = True | False`: True only for an "expand" change, after
which code written for the revision before it keeps working, on the schema and on the rows the code that comes
with the migration writes (new tables, nullable columns, non-unique indexes, triggers that old writes satisfy;
not rewritten rows, dropped or renamed columns, new constraints old writes break, data old code cannot read).
Such changes compose, so after a run of them any earlier release of this chain still works. A migration applied to
a database records its revision and flag here, in the migration's own transaction (env.py's on_version_apply hook
calls `record`). An instance whose code is older than its database reads the rows after its own head
(`newer_revisions_compatible`) to know whether it may keep serving during a rolling upgrade (/readyz
"ahead_compatible").

A serving process imports this module but must not load Alembic (store/schema_version.py): Alembic's types are
named for the type checker only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, delete, insert, inspect, select

from entryway.store.tables import schema_history

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext, MigrationInfo
    from alembic.script import Script


def declared_compatible(script: Script) -> bool:
    """The script's `backward_compatible`; a script without a bool there stops the migration run before any
    later one is applied, rather than be recorded as one thing or the other by guess."""
    value = getattr(script.module, "backward_compatible", None)
    if not isinstance(value, bool):
        raise RuntimeError(
            f"migration {script.revision} ({script.path}) does not declare `backward_compatible = True` or "
            "`= False`: say whether the previous release's code keeps working on the schema it produces "
            "(store/schema_history.py)"
        )
    return value


def previous_of(script: Script) -> str | None:
    down = script.down_revision
    if down is None or isinstance(down, str):
        return down
    return " ".join(down)  # a merge: readiness's walk stops there (unready, the safe answer)


def record(ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]) -> None:
    """Alembic's on_version_apply hook: called after each migration step, in its transaction."""
    conn = ctx.connection
    if conn is None or not inspect(conn).has_table(schema_history.name):
        return  # a step before the migration that creates the table, or the downgrade that drops it
    for revision in step.up_revision_ids:
        conn.execute(delete(schema_history).where(schema_history.c.revision == revision))
        if not step.is_upgrade:
            continue  # a downgrade un-applies the revision: its row goes and stays gone
        script = cast("Script", step.revision_map.get_revision(revision))  # a ScriptDirectory's map holds Scripts
        conn.execute(
            insert(schema_history).values(
                revision=revision,
                previous_revision=previous_of(script),
                backward_compatible=declared_compatible(script),
                applied_time=datetime.now(UTC),
            )
        )


def compatible_chain(previous: Mapping[str, tuple[str | None, bool]], current: str, head: str) -> bool:
    """Walk from `current` back to `head` through `previous` (revision -> (its previous revision, its flag)):
    True when the walk reaches `head` and every revision on the way is backward compatible. A gap (a revision
    with no row), a merge, or a cycle in damaged rows ends it with False."""
    revision: str | None = current
    for _ in range(len(previous) + 1):  # a chain visits each row once: more steps means a cycle
        if revision == head:
            return True
        entry = previous.get(revision) if revision is not None else None
        if entry is None or not entry[1]:
            return False
        revision = entry[0]
    return False


def newer_revisions_compatible(conn: Connection, head: str, current: str) -> bool:
    """Whether code written for `head` keeps working on a database at `current`, a revision it does not know.

    Two small queries, and only while the database is ahead of this code. False when it cannot be told: no
    history table (a database migrated only by releases before it), or no unbroken record back to `head`.
    """
    if not inspect(conn).has_table(schema_history.name):
        return False
    h = schema_history.c
    rows = conn.execute(select(h.revision, h.previous_revision, h.backward_compatible)).all()
    previous = {r.revision: (r.previous_revision, bool(r.backward_compatible)) for r in rows}
    return compatible_chain(previous, current, head)
