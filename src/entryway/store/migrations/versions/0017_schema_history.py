"""schema_history: each applied migration and whether the previous release's code keeps working after it

Revision ID: 0017_schema_history
Revises: 0016_scheduled_jobs
Create Date: 2026-11-27 16:00:00

From this revision on, env.py's hook records every migration as it is applied (store/schema_history.py), so an
instance of an older release can tell a database migrated only by backward-compatible ("expand") migrations
from one it cannot serve, and rolling upgrades become possible. The revisions applied before are back-filled
from their scripts' declarations, without an applied time (it was not kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

import entryway.store.types
from entryway.store.schema_history import declared_compatible, previous_of

revision = "0017_schema_history"
down_revision = "0016_scheduled_jobs"
branch_labels = None
depends_on = None
# A new table only. (The release before it cannot read the table, so it stays unready on a database at this
# revision whatever the flag says: upgrading to it is a switch-over, docs/deployment.md#upgrades.)
backward_compatible = True


def upgrade() -> None:
    history = op.create_table(
        "schema_history",
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("previous_revision", sa.String(length=255), nullable=True),
        sa.Column("backward_compatible", sa.Boolean(), nullable=False),
        sa.Column("applied_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_history")),
    )
    # The database is at down_revision: every revision of the chain up to it was applied. This one is recorded
    # by the hook when it completes.
    rows = [
        {
            "revision": script.revision,
            "previous_revision": previous_of(script),
            "backward_compatible": declared_compatible(script),
            "applied_time": None,
        }
        for script in context.script.iterate_revisions(down_revision, "base")
    ]
    op.bulk_insert(history, rows)


def downgrade() -> None:
    op.drop_table("schema_history")
