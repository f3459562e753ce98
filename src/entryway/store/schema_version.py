"""The schema version a server needs and the one its database has, for /readyz, without importing Alembic.

Alembic (and the migration scripts it loads) costs a serving worker about 11 MB of resident memory it never
uses: workers only need to compare two revision IDs. The head is read from the scripts' `revision` and
`down_revision` assignments (parsed, not imported); a test checks it against Alembic's own answer.
"""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

VERSIONS = Path(__file__).parent / "migrations" / "versions"


def _assignments(path: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("revision", "down_revision"):
                found[name] = ast.literal_eval(node.value)
    return found


def _revisions() -> tuple[set[str], set[str]]:
    """(every revision of the scripts, those some other script revises)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        values = _assignments(path)
        if isinstance(values.get("revision"), str):
            revisions.add(str(values["revision"]))
        down = values.get("down_revision")
        revised.update([down] if isinstance(down, str) else [d for d in down or () if isinstance(d, str)])  # type: ignore[attr-defined]
    return revisions, revised


def known_revisions() -> frozenset[str]:
    """Every revision this release's scripts define: a database at any other one was migrated by a newer release."""
    return frozenset(_revisions()[0])


def head_revision() -> str | None:
    """The one revision no other script revises (None when there are no scripts)."""
    revisions, revised = _revisions()
    heads = revisions - revised
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


def current_revision(engine: Engine) -> str | None:
    """The database's revision (Alembic's alembic_version table), None before the first migration."""
    with engine.connect() as conn:
        return revision_of(conn)


def revision_of(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
