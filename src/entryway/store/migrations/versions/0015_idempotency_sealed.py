"""idempotency answers sealed, keyed by one hashed id

Revision ID: 0015_idempotency_sealed
Revises: 0014_config_generation_more
Create Date: 2026-11-27 15:45:00

The remembered first answer to an Idempotency-Key can hold a secret shown once (a new client secret, a
webhook's whsec_ secret); it was stored as clear JSON. It is now sealed (api/idempotency.py), and the row has a
single-column key so `entryway keys rotate-master` can lock and re-seal it like every other sealed value.

The table is recreated empty: its rows are a 24-hour retry memory, and the old ones hold those secrets in the
clear, which must not outlive the upgrade (a migration cannot seal them: it has no master key). A client
retrying across the upgrade a POST that had succeeded is answered as a new request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0015_idempotency_sealed"
down_revision = "0014_config_generation_more"
branch_labels = None
depends_on = None
# Recreates idempotency_keys with another key and a sealed answer: the code before it writes
# the old columns.
backward_compatible = False


def _drop() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expire_time"))
    op.drop_table("idempotency_keys")


def _index() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_expire_time"), ["expire_time"], unique=False)


def upgrade() -> None:
    _drop()
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("sealed_response", sa.LargeBinary(), nullable=True),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("expire_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
    )
    _index()


def downgrade() -> None:
    _drop()  # sealed answers cannot be turned back into clear JSON here: the memory starts empty again
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
    _index()
