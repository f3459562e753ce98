"""scheduled jobs: one row per periodic job (its lease and last run), and expire_time indexes for the purge

Revision ID: 0016_scheduled_jobs
Revises: 0015_idempotency_sealed
Create Date: 2026-11-27 15:40:00

The purge of expired login state (jobs/login_state.py) deletes in bounded batches by expire_time; without an
index each batch would scan the whole table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from entryway.store.types import UTCDateTime

revision = "0016_scheduled_jobs"
down_revision = "0015_idempotency_sealed"
branch_labels = None
depends_on = None
# A new table and non-unique indexes only.
backward_compatible = True

EXPIRE_INDEXES = ("auth_requests", "auth_codes", "revoked_tokens", "web_sessions")


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_time", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expire_time", UTCDateTime(), nullable=True),
        sa.Column("last_start_time", UTCDateTime(), nullable=True),
        sa.Column("last_finish_time", UTCDateTime(), nullable=True),
        sa.Column("last_success_time", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )
    for table in EXPIRE_INDEXES:
        op.create_index(op.f(f"ix_{table}_expire_time"), table, ["expire_time"], unique=False)


def downgrade() -> None:
    for table in EXPIRE_INDEXES:
        op.drop_index(op.f(f"ix_{table}_expire_time"), table_name=table)
    op.drop_table("scheduled_jobs")
