"""metadata_refreshes: the schedule, lease and outcome of each SAML connection's periodic metadata refresh

Revision ID: 0008_metadata_refreshes
Revises: 0007_upstream_id_tokens
Create Date: 2026-11-27 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0008_metadata_refreshes"
down_revision = "0007_upstream_id_tokens"
branch_labels = None
depends_on = None
# A new table only.
backward_compatible = True


def upgrade() -> None:
    op.create_table(
        "metadata_refreshes",
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("next_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expire_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_attempt_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_success_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_change", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_metadata_refreshes_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_metadata_refreshes")),
    )
    op.create_index(op.f("ix_metadata_refreshes_next_time"), "metadata_refreshes", ["next_time"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_metadata_refreshes_next_time"), table_name="metadata_refreshes")
    op.drop_table("metadata_refreshes")
