"""Run Alembic migrations programmatically, so `entryway migrate` needs no alembic.ini in the working dir."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from entryway.store.migration_locks import waiting_out_locks

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("entryway.migrate")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head", progress: Callable[[str], None] = log.warning) -> None:
    """Apply the migrations up to `revision`, trying again while a lock held elsewhere holds them up
    (store/migration_locks.py); `progress` is told of each wait. Raises MigrationLocked if every attempt gave up."""
    config = alembic_config(engine)
    waiting_out_locks(lambda: command.upgrade(config, revision), progress)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
