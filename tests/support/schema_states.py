"""Putting a test database in the states a rolling upgrade passes through, and back.

The test database is migrated once per run (tests/support/databases.py): each helper restores what it changed,
so the next test finds it at this release's head with its schema_history table.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine, insert, text

from entryway.store.migrate import MIGRATIONS
from entryway.store.tables import schema_history


@contextmanager
def claimed_revision(engine: Engine, revision: str | None) -> Iterator[None]:
    """alembic_version says `revision` (None: no row, as before the first migration) for the block."""
    with engine.begin() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("DELETE FROM alembic_version"))
        if revision is not None:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": current})


def record_history(engine: Engine, *rows: tuple[str, str | None, bool]) -> None:
    """schema_history rows (revision, previous revision, backward compatible), as a newer release's run writes
    them. The tables are emptied between tests, so they go away by themselves."""
    with engine.begin() as conn:
        for revision, previous, compatible in rows:
            conn.execute(
                insert(schema_history).values(
                    revision=revision, previous_revision=previous, backward_compatible=compatible
                )
            )


@contextmanager
def history_table_hidden(engine: Engine) -> Iterator[None]:
    """No schema_history table for the block: a database no release with the table has migrated."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE schema_history RENAME TO schema_history_hidden"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE schema_history_hidden RENAME TO schema_history"))


NEWER_SCRIPT = '''"""a newer release's migration (a test's)"""

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None
{flag}


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def newer_release(engine: Engine, directory: Path, down_revision: str, *scripts: tuple[str, bool | None]) -> Config:
    """The Alembic configuration of a newer release: this release's env.py and scripts, copied to `directory`,
    plus `scripts` (revision, its backward_compatible, None: none declared) chained after `down_revision`."""
    shutil.copytree(MIGRATIONS, directory, ignore=shutil.ignore_patterns("__pycache__"))
    previous = down_revision
    for revision, compatible in scripts:
        flag = "" if compatible is None else f"backward_compatible = {compatible}"
        source = NEWER_SCRIPT.format(revision=revision, down_revision=previous, flag=flag)
        (directory / "versions" / f"{revision}.py").write_text(source)
        previous = revision
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.attributes["engine"] = engine
    return config
