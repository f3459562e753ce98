"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import entryway.store.types
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
# Does the previous release's code keep working on the schema this produces, and on the rows the code that comes
# with it writes? True only for an "expand" change (store/schema_history.py); it decides whether an upgrade can be
# rolling. Replace None with True or False: until then the migration is refused.
backward_compatible = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
