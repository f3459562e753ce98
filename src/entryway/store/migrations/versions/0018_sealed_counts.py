"""data_keys.sealed_count: how many values each data key has sealed, so the rollover goes by volume as well as age

Revision ID: 0018_sealed_counts
Revises: 0017_schema_history
Create Date: 2026-11-28 10:00:00

Each process counts its seals in memory and adds them to the row in the background (keys/seal_counts.py); the
active data key is replaced once it reaches 2^30 (keys/data_key_rollover.py). A key made before this revision
sealed an unknown number of values: its row is left NULL, which the rollover reads as due, so the first check
after the upgrade replaces it with a key counted from its first value. Keys made afterwards start at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_sealed_counts"
down_revision = "0017_schema_history"
branch_labels = None
depends_on = None
# A nullable column with a server default: the code before it neither reads it nor writes it, and its inserts
# get 0.
backward_compatible = True


def upgrade() -> None:
    op.add_column("data_keys", sa.Column("sealed_count", sa.BigInteger(), nullable=True, server_default="0"))
    # The default filled the existing rows with 0, which would claim they sealed nothing: unknown is NULL.
    op.execute(sa.text("UPDATE data_keys SET sealed_count = NULL"))


def downgrade() -> None:
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_column("sealed_count")
