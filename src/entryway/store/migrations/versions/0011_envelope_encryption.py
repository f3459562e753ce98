"""envelope encryption: data keys wrapped by the master key; installation secrets

Revision ID: 0011_envelope_encryption
Revises: 0010_saml_slo
Create Date: 2026-11-27 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0011_envelope_encryption"
down_revision = "0010_saml_slo"
branch_labels = None
depends_on = None
# New tables only, but the code that comes with it seals values under data keys, which the code
# before it cannot open.
backward_compatible = False

TIME = entryway.store.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_under", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("create_time", TIME, nullable=False),
        sa.Column("update_time", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "installation_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("create_time", TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_secrets")),
    )


def downgrade() -> None:
    op.drop_table("installation_secrets")
    op.drop_table("data_keys")
