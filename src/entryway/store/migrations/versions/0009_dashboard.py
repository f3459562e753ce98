"""dashboard owners (argon2id password hashes) and one-time form submission tokens

Revision ID: 0009_dashboard
Revises: 0008_metadata_refreshes
Create Date: 2026-11-27 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0009_dashboard"
down_revision = "0008_metadata_refreshes"
branch_labels = None
depends_on = None
# New tables only.
backward_compatible = True


def upgrade() -> None:
    op.create_table(
        "dashboard_owners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_sign_in_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_dashboard_owners_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_owners")),
        sa.UniqueConstraint("environment_id", "email", name=op.f("uq_dashboard_owners_environment_id_email")),
    )
    op.create_table(
        "form_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_form_submissions_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_submissions")),
    )
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_submissions_create_time"), ["create_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_submissions_create_time"))
    op.drop_table("form_submissions")
    op.drop_table("dashboard_owners")
