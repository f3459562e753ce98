"""SAML single logout: login sessions (NameID, SessionIndex) and pending SP-initiated logouts

Revision ID: 0010_saml_slo
Revises: 0009_dashboard
Create Date: 2026-11-27 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0010_saml_slo"
down_revision = "0009_dashboard"
branch_labels = None
depends_on = None
# New tables only.
backward_compatible = True

ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "saml_sessions",
        sa.Column("session_id", ID, nullable=False),
        sa.Column("environment_id", ID, nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("name_id", sa.String(length=512), nullable=False),
        sa.Column("name_id_format", sa.String(length=256), nullable=True),
        sa.Column("name_qualifier", sa.String(length=256), nullable=True),
        sa.Column("sp_name_qualifier", sa.String(length=256), nullable=True),
        sa.Column("session_index", sa.String(length=256), nullable=True),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("expire_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("ended_time", entryway.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_saml_sessions")),
    )
    with op.batch_alter_table("saml_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saml_sessions_expire_time"), ["expire_time"], unique=False)
        batch_op.create_index("ix_saml_sessions_connection_name_id", ["connection_id", "name_id"], unique=False)
    op.create_table(
        "saml_logouts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", ID, nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("post_logout_redirect_uri", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.Column("expire_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_logouts")),
    )
    with op.batch_alter_table("saml_logouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saml_logouts_expire_time"), ["expire_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saml_logouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saml_logouts_expire_time"))
    op.drop_table("saml_logouts")
    with op.batch_alter_table("saml_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_saml_sessions_connection_name_id")
        batch_op.drop_index(batch_op.f("ix_saml_sessions_expire_time"))
    op.drop_table("saml_sessions")
