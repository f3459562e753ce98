"""Alembic environment: uses the engine handed over by entryway.store.migrate."""

from __future__ import annotations

from alembic import context

from entryway.store.migration_locks import bound_waits
from entryway.store.schema_history import record
from entryway.store.tables import metadata

engine = context.config.attributes["engine"]

# One transaction for the whole run (transactional DDL, on PostgreSQL and SQLite): a run that fails, or gives up
# waiting for a lock (store/migration_locks.py), leaves no partial schema and no alembic_version or schema_history
# row.
with engine.begin() as connection:
    if connection.dialect.name == "sqlite":
        # pysqlite begins a transaction only before DML, so each CREATE or ALTER would commit on its own and a run
        # that failed part-way would leave tables its retry then trips over. An explicit BEGIN makes the run one
        # transaction (SQLite's DDL is transactional); the driver's commit or rollback ends it.
        connection.exec_driver_sql("BEGIN")
    bound_waits(connection)  # PostgreSQL: a lock waited for 2 s at most, statements unbounded
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
