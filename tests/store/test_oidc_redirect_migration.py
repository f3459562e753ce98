"""Migration 0006 records the redirect URI of OIDC connections stored before it (custom domains must not move it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from entryway.store.migrate import upgrade
from entryway.store.tables import connections, environments, organizations


def test_existing_oidc_connections_get_the_redirect_uri_they_always_had(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0011_envelope_encryption")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(environments).values(
                id="env_1", type="production", display_name="P", url="https://acme.entryway.test",
                host="acme.entryway.test", custom_domain=None, custom_domain_verified=False,
                create_time=now, update_time=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(organizations).values(
                id="org_1", environment_id="env_1", display_name="Acme", metadata={}, create_time=now, update_time=now
            )
        )
        for conn_id, kind, config in (
            ("conn_oidc", "OIDC", {"issuer": "https://idp.example.com"}),
            ("conn_kept", "OIDC", {"redirect_uri": "https://imported.example/cb"}),
            ("conn_saml", "SAML", None),
        ):
            conn.execute(
                insert(connections).values(
                    id=conn_id, environment_id="env_1", organization_id="org_1", type=kind, provider="CUSTOM",
                    enabled=False, saml_config={} if kind == "SAML" else None, oidc_config=config,
                    attribute_mapping={}, create_time=now, update_time=now,
                )
            )  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        configs = dict(conn.execute(select(connections.c.id, connections.c.oidc_config)).all())
    engine.dispose()
    assert configs["conn_oidc"] == {
        "issuer": "https://idp.example.com",
        "redirect_uri": "https://acme.entryway.test/sso/v1/oidc/conn_oidc/callback",
    }
    assert configs["conn_kept"] == {"redirect_uri": "https://imported.example/cb"}
    assert configs["conn_saml"] is None
