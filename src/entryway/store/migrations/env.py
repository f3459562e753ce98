"""Alembic environment: uses the engine handed over by entryway.store.migrate."""

from __future__ import annotations

from alembic import context

from entryway.store.schema_history import record
from entryway.store.tables import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Each applied (or un-applied) revision and its backward_compatible flag go into schema_history in the
        # same transaction as the migration, so the record can never disagree with the schema.
        on_version_apply=record,
    )
    context.run_migrations()
