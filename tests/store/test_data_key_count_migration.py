"""Migration 0018 counts data keys' seals from then on: a key made before it is left NULL (unknown, replaced at the
first check: keys/data_key_rollover.py), and a key the previous release's code inserts gets 0. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, insert, select

from entryway.store.migrate import alembic_config, upgrade
from entryway.store.tables import data_keys


def _key(key_id: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return dict(
        id=key_id,
        wrapped_key=b"\0" * 60,
        master_key_id="mk_1",
        created_under="mk_1",
        status="active",
        create_time=now,
        update_time=now,
    )


def test_keys_made_before_are_not_counted_and_keys_made_after_start_at_zero(engine: Engine) -> None:
    config = alembic_config(engine)
    try:
        command.downgrade(config, "0017_schema_history")
        with engine.begin() as conn:
            conn.execute(insert(data_keys).values(**_key("dk_before")))
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(insert(data_keys).values(**_key("dk_after")))  # as the code before 0018 inserts one
            counts = dict(conn.execute(select(data_keys.c.id, data_keys.c.sealed_count)).all())
        assert counts == {"dk_before": None, "dk_after": 0}
    finally:
        upgrade(engine)
