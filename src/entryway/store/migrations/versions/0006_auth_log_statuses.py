"""auth log: INITIATED / PENDING / SUCCESS / FAILED statuses, and an index to read one login's steps

Revision ID: 0006_auth_log_statuses
Revises: 0005_branding
Create Date: 2026-11-27 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_auth_log_statuses"
down_revision = "0005_branding"
branch_labels = None
depends_on = None
# Rewrites FAILURE rows to FAILED: the code before it would keep writing FAILURE.
backward_compatible = False

events = sa.table("auth_events", sa.column("status", sa.String))


def upgrade() -> None:
    # Before this revision a failure was FAILURE. Older callback rows stay SUCCESS: whether their code was
    # exchanged was never recorded, and they age out under the retention period.
    op.execute(events.update().where(events.c.status == "FAILURE").values(status="FAILED"))
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_events_auth_request_id"), ["auth_request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_events_auth_request_id"))
    op.execute(events.update().where(events.c.status == "FAILED").values(status="FAILURE"))
