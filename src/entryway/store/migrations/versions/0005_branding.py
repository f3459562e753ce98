"""branding: per-environment and per-organization branding, and their content-addressed images

Revision ID: 0005_branding
Revises: 0004_webhooks
Create Date: 2026-11-27 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types

revision = "0005_branding"
down_revision = "0004_webhooks"
branch_labels = None
depends_on = None
# New tables only.
backward_compatible = True


def upgrade() -> None:
    op.create_table(
        "brand_images",
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("create_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_brand_images_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", "id", name=op.f("pk_brand_images")),
    )
    op.create_table(
        "environment_branding",
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("logo_image_id", sa.String(length=64), nullable=True),
        sa.Column("favicon_image_id", sa.String(length=64), nullable=True),
        sa.Column("update_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_environment_branding_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", name=op.f("pk_environment_branding")),
    )
    op.create_table(
        "organization_branding",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("logo_image_id", sa.String(length=64), nullable=True),
        sa.Column("update_time", entryway.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_organization_branding_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_branding_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_branding")),
    )
    with op.batch_alter_table("organization_branding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organization_branding_environment_id"), ["environment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("organization_branding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_branding_environment_id"))
    op.drop_table("organization_branding")
    op.drop_table("environment_branding")
    op.drop_table("brand_images")
