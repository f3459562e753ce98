"""Seeding a development environment: what `entryway dev` relies on, on both backends."""

from __future__ import annotations

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.bootstrap import seed_development
from entryway.services.domains import find_by_domain


def test_first_run_creates_environment_client_secret_and_test_organization(rt: Runtime) -> None:
    seed = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    assert seed.environment.url == "http://localhost:8000"
    assert seed.client_id.startswith("skc_")
    assert seed.plain_secret is not None and seed.plain_secret.startswith("ews_")
    assert credentials.authenticate_client(rt, seed.client_id, seed.plain_secret) is not None
    with rt.engine.connect() as conn:
        uris = environments.list_redirect_uris(conn, seed.environment.id, RedirectKind.CALLBACK)
        assert [u.uri for u in uris] == ["http://localhost:3000/callback"]
        for name in ("example.com", "example.org"):
            dom = find_by_domain(conn, seed.environment.id, name)
            assert dom is not None and dom.organization_id == seed.organization_id


def test_second_run_keeps_client_and_shows_no_secret_unless_asked(rt: Runtime) -> None:
    first = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    again = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    assert again.client_id == first.client_id
    assert again.connection_id == first.connection_id
    assert again.plain_secret is None
    fresh = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback", new_secret=True)
    assert fresh.plain_secret is not None and fresh.plain_secret != first.plain_secret
    assert credentials.authenticate_client(rt, first.client_id, fresh.plain_secret) is not None
