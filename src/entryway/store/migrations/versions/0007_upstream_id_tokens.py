"""upstream_id_tokens: the IdP's sealed ID token per OIDC login session, for id_token_hint at upstream logout

Revision ID: 0007_upstream_id_tokens
Revises: 0006_auth_log_statuses
Create Date: 2026-11-27 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0007_upstream_id_tokens"
down_revision = "0006_auth_log_statuses"
branch_labels = None
depends_on = None
# A new table only.
backward_compatible = True


def upgrade() -> None:
    op.create_table(
        "upstream_id_tokens",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_id_token", sa.LargeBinary(), nullable=False),
        sa.Column("expire_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_upstream_id_tokens")),
    )
    op.create_index(op.f("ix_upstream_id_tokens_expire_time"), "upstream_id_tokens", ["expire_time"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_upstream_id_tokens_expire_time"), table_name="upstream_id_tokens")
    op.drop_table("upstream_id_tokens")
