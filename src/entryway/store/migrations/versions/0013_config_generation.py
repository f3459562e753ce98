"""config generation counter, bumped by triggers on every configuration write

Revision ID: 0013_config_generation
Revises: 0012_oidc_redirect_uris
Create Date: 2026-11-27 12:40:00

Triggers rather than application code, so a change made by any process, the CLI or an operator's SQL is
seen by every instance's configuration cache (store/config_cache.py). The counter is upserted, so a missing
row is recreated. A secret's last_used_time is written by logins and is not configuration: UPDATE triggers
name the other columns only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_config_generation"
down_revision = "0012_oidc_redirect_uris"
branch_labels = None
depends_on = None
# A new table and triggers: the code before it writes the watched tables as before, and the
# triggers bump the counter for those writes too.
backward_compatible = True

# table -> the columns whose update is a configuration change (None: all of them)
WATCHED: dict[str, list[str] | None] = {
    "environments": None,
    "clients": None,
    "client_secrets": ["client_id", "secret_hash", "status", "expire_time"],
    "redirect_uris": None,
    "organizations": None,
    "domains": None,
    "connections": None,
}
BUMP = (
    "INSERT INTO config_generation (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = config_generation.value + 1"
)


def _events(columns: list[str] | None) -> str:
    return "INSERT OR DELETE OR UPDATE" + (f" OF {', '.join(columns)}" if columns else "")


def upgrade() -> None:
    op.create_table(
        "config_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_generation")),
    )
    op.execute("INSERT INTO config_generation (id, value) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION entryway_bump_config_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table, columns in WATCHED.items():
            # Once per statement: a bulk insert of 100,000 organizations bumps the counter once.
            op.execute(
                f"CREATE TRIGGER config_generation_{table} AFTER {_events(columns)} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION entryway_bump_config_generation()"
            )
        return
    for table, columns in WATCHED.items():
        # SQLite names one event per trigger and runs them for each row.
        for action in ("INSERT", "DELETE", "UPDATE" + (f" OF {', '.join(columns)}" if columns else "")):
            name = f"config_generation_{table}_{action.split()[0].lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {action} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS config_generation_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS entryway_bump_config_generation()")
    else:
        for table in WATCHED:
            for action in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS config_generation_{table}_{action}")
    op.drop_table("config_generation")
