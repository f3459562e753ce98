"""The storage conformance suite: every test runs unchanged on SQLite and on PostgreSQL (the `rt` fixture).

It pins what the rest of Entryway relies on from a backend: unique constraints that make concurrent
instances safe, cascades, time zones, JSON, ID order, and the services' create/read/update/delete.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from entryway.ids import new_id
from entryway.model.connections import ConnectionType, DomainType, Provider
from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import connections, credentials, domains, environments, organizations
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import (
    client_secrets,
    clients,
    redirect_uris,
    saml_replay,
    signing_keys,
)
from entryway.store.tables import connections as connections_table
from entryway.store.tables import domains as domains_table
from entryway.store.tables import environments as environments_table
from entryway.store.tables import organizations as organizations_table


def _org_row(env_id: str, now: datetime, **values: object) -> dict[str, object]:
    return {
        "id": new_id("org"),
        "environment_id": env_id,
        "display_name": "Org",
        "external_id": None,
        "slug": None,
        "logo_url": None,
        "metadata": {},
        "create_time": now,
        "update_time": now,
        **values,
    }


# --- unique constraints ----------------------------------------------------------------------------------


def test_a_domain_is_unique_per_environment(rt: Runtime, seed: DevSeed) -> None:
    now = rt.clock.now()
    row = {
        "environment_id": seed.environment.id,
        "organization_id": seed.organization_id,
        "domain": "example.com",
        "domain_type": "ORGANIZATION_DOMAIN",
        "verification_status": "PENDING",
        "verification_token": "t",
        "create_time": now,
        "update_time": now,
    }
    with pytest.raises(IntegrityError), rt.engine.begin() as conn:
        conn.execute(insert(domains_table).values(id=new_id("dom"), **row))
    with rt.engine.begin() as conn:
        other, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://other.localhost:1", display_name="Other"
        )
        org = organizations.create_organization(rt, conn, other.id, display_name="Elsewhere")
        # the same domain in another environment is fine
        domains.create_domain(rt, conn, other.id, org.id, domain="example.com", domain_type="ORGANIZATION_DOMAIN")


def test_external_id_and_slug_are_unique_per_environment_but_null_repeats(rt: Runtime, seed: DevSeed) -> None:
    now = rt.clock.now()
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        conn.execute(insert(organizations_table).values(_org_row(env_id, now, external_id="x1", slug="s1")))
        conn.execute(insert(organizations_table).values(_org_row(env_id, now)))
        conn.execute(insert(organizations_table).values(_org_row(env_id, now)))  # NULLs never collide
    for column in ("external_id", "slug"):
        with pytest.raises(IntegrityError), rt.engine.begin() as conn:
            value = "x1" if column == "external_id" else "s1"
            conn.execute(insert(organizations_table).values(_org_row(env_id, now, **{column: value})))


def test_an_assertion_id_is_stored_once(rt: Runtime) -> None:
    row = {"assertion_id": "_abc123", "connection_id": "conn_x", "expire_time": rt.clock.now()}
    with rt.engine.begin() as conn:
        conn.execute(insert(saml_replay).values(**row))
    with pytest.raises(IntegrityError), rt.engine.begin() as conn:
        conn.execute(insert(saml_replay).values(**{**row, "connection_id": "conn_y"}))


def test_a_failed_transaction_leaves_nothing_behind(rt: Runtime, seed: DevSeed) -> None:
    with pytest.raises(ApiError), rt.engine.begin() as conn:
        organizations.create_organization(rt, conn, seed.environment.id, display_name="Kept?")
        organizations.create_organization(rt, conn, seed.environment.id, display_name="")
    with rt.engine.connect() as conn:
        names = [o.display_name for o in organizations.list_organizations(conn, seed.environment.id)]
    assert names == ["Test Organization"]


# --- cascades --------------------------------------------------------------------------------------------


def test_deleting_an_organization_deletes_its_domains_and_connections(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        organizations.delete_organization(conn, seed.environment.id, seed.organization_id)
    with rt.engine.connect() as conn:
        assert conn.execute(select(domains_table)).all() == []
        assert conn.execute(select(connections_table)).all() == []


def test_deleting_an_environment_deletes_everything_in_it(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        conn.execute(delete(environments_table).where(environments_table.c.id == seed.environment.id))
    with rt.engine.connect() as conn:
        for table in (
            organizations_table,
            domains_table,
            connections_table,
            clients,
            client_secrets,
            redirect_uris,
            signing_keys,
        ):
            assert conn.execute(select(table)).all() == [], table.name


# --- values round trip -----------------------------------------------------------------------------------


def test_timestamps_come_back_aware_utc_and_equal(rt: Runtime, seed: DevSeed) -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    at = datetime(2025, 6, 30, 23, 59, 58, 123456, tzinfo=east)
    with rt.engine.begin() as conn:
        conn.execute(insert(organizations_table).values(_org_row(seed.environment.id, at, id="org_time")))
    with rt.engine.connect() as conn:
        org = organizations.get_organization(conn, seed.environment.id, "org_time")
    assert org.create_time == at
    assert org.create_time.tzinfo is UTC
    assert org.create_time.isoformat() == "2025-06-30T18:29:58.123456+00:00"


def test_naive_timestamps_are_refused(rt: Runtime, seed: DevSeed) -> None:
    naive = datetime(2025, 1, 1, 0, 0)  # without tzinfo: the point of the test
    with pytest.raises(StatementError), rt.engine.begin() as conn:
        conn.execute(insert(organizations_table).values(_org_row(seed.environment.id, naive)))


def test_json_round_trips(rt: Runtime, seed: DevSeed) -> None:
    metadata = {"région": "Île-de-France", "emoji": "🔐", "quote": 'say "hi"', "empty": "", "nested-looking": "{}"}
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, seed.environment.id, display_name="J", metadata=metadata)
        saml_config = {"idp_certificates": [], "flags": {"a": True, "b": None}, "n": 12345678901234, "f": 0.5}
        made = connections.insert_connection(
            rt,
            conn,
            env_id=seed.environment.id,
            env_url=seed.environment.url,
            organization_id=org.id,
            type=ConnectionType.SAML,
            provider=Provider.CUSTOM,
            saml_config=saml_config,
            attribute_mapping={"email": "mail"},
        )
    with rt.engine.connect() as conn:
        assert organizations.get_organization(conn, seed.environment.id, org.id).metadata == metadata
        stored = connections.get_connection(conn, seed.environment.id, made.id)
    assert {k: stored.saml_config[k] for k in saml_config} == saml_config
    assert stored.attribute_mapping == {"email": "mail"}


def test_id_order_is_creation_order(rt: Runtime, seed: DevSeed) -> None:
    made = []
    with rt.engine.begin() as conn:
        for i in range(12):
            made.append(organizations.create_organization(rt, conn, seed.environment.id, display_name=f"O{i}").id)
            time.sleep(0.002)  # IDs order by millisecond; within one millisecond their order is random
    with rt.engine.connect() as conn:
        listed = [o.id for o in organizations.list_organizations(conn, seed.environment.id)]
    assert listed[1:] == made
    assert made == sorted(made)


# --- services: create, read, update, delete --------------------------------------------------------------


def test_organization_crud(rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, env_id, display_name="Acme", external_id="e", slug="acme")
    with rt.engine.begin() as conn:
        assert organizations.get_by_external_id(conn, env_id, "e").id == org.id
        changed = organizations.update_organization(rt, conn, env_id, org.id, {"display_name": "Acme 2", "slug": None})
        assert (changed.display_name, changed.slug, changed.external_id) == ("Acme 2", None, "e")
        assert organizations.count_organizations(conn, env_id) == 2
        first = organizations.list_organizations(conn, env_id, limit=1)
        assert [o.id for o in organizations.list_organizations(conn, env_id, after_id=first[0].id)] == [org.id]
        organizations.delete_organization(conn, env_id, org.id)
        assert organizations.find_organization(conn, env_id, org.id) is None
        with pytest.raises(ApiError) as caught:
            organizations.get_organization(conn, env_id, org.id)
        assert caught.value.status == 404


def test_domain_crud(rt: Runtime, seed: DevSeed) -> None:
    env_id, org_id = seed.environment.id, seed.organization_id
    with rt.engine.begin() as conn:
        dom = domains.create_domain(
            rt, conn, env_id, org_id, domain="Acme.test", domain_type=DomainType.ALLOWED_EMAIL_DOMAIN
        )
        assert dom.domain == "acme.test" and dom.verification_status == "PENDING"
        assert len(dom.verification_token) >= 32
        with pytest.raises(ApiError) as caught:
            domains.create_domain(rt, conn, env_id, org_id, domain="ACME.test", domain_type="ORGANIZATION_DOMAIN")
        assert caught.value.status == 409
        assert domains.find_by_domain(conn, env_id, "acme.TEST.") is not None
        names = [d.domain for d in domains.list_domains(conn, env_id, org_id)]
        assert sorted(names[:2]) == ["example.com", "example.org"] and names[2] == "acme.test"  # seeded first
        assert domains.count_domains(conn, env_id, org_id) == 3
        domains.delete_domain(conn, env_id, org_id, dom.id)
        assert domains.find_by_domain(conn, env_id, "acme.test") is None


def test_connection_crud(rt: Runtime, seed: DevSeed) -> None:
    env = seed.environment
    time.sleep(0.002)  # so the new connection's ID sorts after the seeded one's
    with rt.engine.begin() as conn:
        made = connections.create_connection(
            rt, conn, env, seed.organization_id, type="SAML", provider="OKTA", saml_config={"idp_entity_id": "urn:x"}
        )
        assert made.saml_config["sp_entity_id"] == f"{env.url}/sso/v1/saml/{made.id}"
        assert connections.missing_for_enable(made) == ["idp_sso_url", "idp_certificates"]
        changed = connections.update_connection(rt, conn, env, made.id, {"saml_config": {"force_authn": True}})
        assert changed.saml_config["force_authn"] is True and changed.saml_config["idp_entity_id"] == "urn:x"
        assert connections.count_connections(conn, env.id, organization_id=seed.organization_id) == 2
        assert [c.id for c in connections.organization_connections(conn, env.id, seed.organization_id)] == [
            seed.connection_id,
            made.id,
        ]
        off = connections.set_enabled(rt, conn, env, seed.connection_id, False)
        assert off.enabled is False
        connections.delete_connection(rt, conn, env.id, made.id)
        assert connections.find_connection(conn, env.id, made.id) is None


def test_environment_and_redirect_uri_crud(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        renamed = environments.update_environment(rt, conn, seed.environment.id, display_name="Renamed")
        assert renamed.display_name == "Renamed"
        assert environments.environment_update_time(conn, seed.environment.id) >= seed.environment.create_time
        env = environments.get_environment(conn, seed.environment.id)
        environments.add_redirect_uri(rt, conn, env, RedirectKind.POST_LOGOUT, "http://localhost:3000/bye")
        environments.set_initiate_login_uri(rt, conn, env, "http://localhost:3000/login")
        environments.set_initiate_login_uri(rt, conn, env, "http://localhost:3000/login")
        kinds = [(u.kind.value, u.uri) for u in environments.list_redirect_uris(conn, env.id)]
        assert kinds == [
            ("callback", "http://localhost:3000/callback"),
            ("post_logout", "http://localhost:3000/bye"),
            ("initiate_login", "http://localhost:3000/login"),
        ]
        environments.remove_redirect_uri(rt, conn, env, RedirectKind.POST_LOGOUT, "http://localhost:3000/bye")
        assert environments.list_redirect_uris(conn, env.id, RedirectKind.POST_LOGOUT) == []


def test_client_and_secret_crud(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        client = credentials.create_api_client(rt, conn, seed.environment.id, "ci", ["logs:read", "logs:read"])
        assert client.scopes == ["logs:read"]
        with pytest.raises(ApiError):
            credentials.create_api_client(rt, conn, seed.environment.id, "ci", ["root"])
        assert [c.kind for c in credentials.list_clients(conn, seed.environment.id)] == ["app", "api"]
        plain, secret = credentials.create_secret(rt, conn, client)
        stored = conn.execute(select(client_secrets.c.secret_hash).where(client_secrets.c.id == secret.id)).scalar_one()
        assert stored == credentials.hash_secret(plain) and plain not in stored
        credentials.set_secret_status(rt, conn, client, secret.id, "INACTIVE")
        assert credentials.get_secret(conn, client, secret.id).status == "INACTIVE"
        credentials.delete_secret(conn, client, secret.id)
        assert credentials.list_secrets(conn, client.id) == []
        with pytest.raises(ApiError) as caught:
            credentials.environment_client(conn, "env_other", client.id)
        assert caught.value.status == 404
