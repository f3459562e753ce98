"""What `entryway migrate` would apply, and whether the release serving the database now survives it.

An operator reads it before an upgrade (`entryway migrate --plan`) to choose between a rolling upgrade (every
pending migration is backward compatible, and the running release reads schema_history) and a switch-over
(docs/deployment.md#upgrades).
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from entryway.store.migrate import alembic_config
from entryway.store.schema_history import declared_compatible
from entryway.store.schema_version import revision_of
from entryway.store.tables import schema_history


@dataclass(frozen=True)
class Pending:
    revision: str
    backward_compatible: bool
    title: str  # the first line of the script's docstring


@dataclass(frozen=True)
class Plan:
    current: str | None  # the database's revision, None before the first migration
    head: str | None  # this release's
    known: bool  # the database's revision is one of this release's (not a newer release's)
    history_kept: bool  # the database has schema_history: a release serving it can read the flags
    pending: tuple[Pending, ...]  # oldest first

    @property
    def incompatible(self) -> tuple[Pending, ...]:
        return tuple(p for p in self.pending if not p.backward_compatible)

    @property
    def rolling(self) -> bool:
        """Whether instances of the release serving now stay ready after these migrations run: they read
        schema_history (a release before 0017_schema_history cannot) and every pending migration keeps them
        working."""
        return bool(self.pending) and self.history_kept and not self.incompatible


def plan(engine: Engine) -> Plan:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    head = scripts.get_current_head()
    with engine.connect() as conn:
        current = revision_of(conn)
        history_kept = inspect(conn).has_table(schema_history.name)
    # Alembic has already read the scripts: no need to parse them again (schema_version.known_revisions).
    known = current is None or current in {script.revision for script in scripts.walk_revisions()}
    if not known:
        return Plan(current, head, False, history_kept, ())
    newest_first = scripts.iterate_revisions("heads", current or "base")  # the lower bound is excluded
    pending = tuple(
        Pending(s.revision, declared_compatible(s), (s.doc or "").strip()) for s in reversed(list(newest_first))
    )
    return Plan(current, head, True, history_kept, pending)


def describe(upcoming: Plan) -> list[str]:
    """The plan as `entryway migrate` prints it: the pending migrations, then one `upgrade:` line."""
    if not upcoming.known:
        return [
            f"the database is at {upcoming.current}, which this release does not know: a newer release migrated "
            "it. Nothing to apply; deploy that release or a newer one."
        ]
    if not upcoming.pending:
        return [f"nothing to apply: the database is at this release's newest migration ({upcoming.head})"]
    lines = [f"{len(upcoming.pending)} migration(s) to apply, oldest first:"]
    width = max(len(p.revision) for p in upcoming.pending)
    for p in upcoming.pending:
        flag = "backward compatible    " if p.backward_compatible else "NOT backward compatible"
        lines.append(f"  {p.revision:<{width}}  {flag}  {p.title}")
    if upcoming.current is None:
        lines.append("upgrade: new database (nothing serves it yet)")
    elif upcoming.rolling:
        lines.append(
            "upgrade: rolling. The instances serving now stay ready on the new schema: migrate, then replace "
            "them one at a time (docs/deployment.md#upgrades)."
        )
    elif not upcoming.history_kept:
        lines.append(
            f"upgrade: switch-over. The database is at {upcoming.current}, before schema_history "
            "(0017_schema_history): the release serving it cannot read the migrations' flags and turns unready "
            "once they run (docs/deployment.md#upgrades)."
        )
    else:
        names = ", ".join(p.revision for p in upcoming.incompatible)
        lines.append(
            f"upgrade: switch-over. Not backward compatible: {names}; the release serving now turns unready once "
            "it runs (docs/deployment.md#upgrades)."
        )
    return lines
