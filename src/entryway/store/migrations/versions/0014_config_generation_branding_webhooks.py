"""the config generation counter also watches branding and webhook endpoints

Revision ID: 0014_config_generation_more
Revises: 0013_config_generation
Create Date: 2026-11-27 15:40:00

Branding (hosted pages) and webhook endpoints (which endpoints an event goes to) move into the
generation-checked configuration cache (store/config_cache.py) instead of ad hoc TTL caches, so their
writes must bump the counter too. A webhook endpoint's failing_since and update_time are written by the
delivery worker on every failed attempt and are not configuration: its UPDATE triggers name the other
columns only (auto-disabling changes status, which is watched).
"""

from __future__ import annotations

from alembic import op

revision = "0014_config_generation_more"
down_revision = "0013_config_generation"
branch_labels = None
depends_on = None
# Triggers only, satisfied by the code before it as they are by 0013's.
backward_compatible = True

# table -> the columns whose update is a configuration change (None: all of them)
WATCHED: dict[str, list[str] | None] = {
    "environment_branding": None,
    "organization_branding": None,
    "brand_images": None,
    "webhook_endpoints": [
        "environment_id",
        "url",
        "event_types",
        "secret",
        "previous_secret",
        "previous_secret_expire_time",
        "status",
        "disabled_reason",
    ],
}
BUMP = (
    "INSERT INTO config_generation (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = config_generation.value + 1"
)


def _events(columns: list[str] | None) -> str:
    return "INSERT OR DELETE OR UPDATE" + (f" OF {', '.join(columns)}" if columns else "")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in WATCHED.items():
            # The function was created by 0013_config_generation.
            op.execute(
                f"CREATE TRIGGER config_generation_{table} AFTER {_events(columns)} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION entryway_bump_config_generation()"
            )
        return
    for table, columns in WATCHED.items():
        for action in ("INSERT", "DELETE", "UPDATE" + (f" OF {', '.join(columns)}" if columns else "")):
            name = f"config_generation_{table}_{action.split()[0].lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {action} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS config_generation_{table} ON {table}")
        return
    for table in WATCHED:
        for action in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS config_generation_{table}_{action}")
