"""idempotency keys for management API POSTs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
# A new table only.
backward_compatible = True


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("expire_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("environment_id", "client_id", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_expire_time"), ["expire_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expire_time"))
    op.drop_table("idempotency_keys")
