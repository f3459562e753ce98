"""record each OIDC connection's redirect URI, fixed like SAML SP URLs (custom domains must not move it)

Revision ID: 0012_oidc_redirect_uris
Revises: 0011_envelope_encryption
Create Date: 2026-11-27 13:10:00

Connections stored before this revision computed their redirect URI from the environment URL at each login;
no custom domain existed then, so the environment's URL is the one their IdPs were given.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_oidc_redirect_uris"
down_revision = "0011_envelope_encryption"
branch_labels = None
depends_on = None
# Records redirect URIs in existing rows: connections the code before it creates meanwhile would
# lack one, and a custom domain verified later would move their redirect URI.
backward_compatible = False

_connections = sa.table(
    "connections",
    sa.column("id", sa.String),
    sa.column("environment_id", sa.String),
    sa.column("type", sa.String),
    sa.column("oidc_config", sa.JSON),
)
_environments = sa.table("environments", sa.column("id", sa.String), sa.column("url", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_connections.c.id, _connections.c.oidc_config, _environments.c.url)
        .join(_environments, _environments.c.id == _connections.c.environment_id)
        .where(_connections.c.type == "OIDC")
    ).all()
    for row in rows:
        config = dict(row.oidc_config or {})
        if config.get("redirect_uri"):
            continue
        config["redirect_uri"] = f"{row.url}/sso/v1/oidc/{row.id}/callback"
        bind.execute(sa.update(_connections).where(_connections.c.id == row.id).values(oidc_config=config))


def downgrade() -> None:
    pass  # the recorded value equals what the code before this revision computed
