"""First-run seeding of a development environment: the environment, its app client, the Test Organization
(domains example.com and example.org) and its IdP-simulator connection. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from entryway.ids import new_id
from entryway.model.connections import (
    DEFAULT_ATTRIBUTE_MAPPING,
    ConnectionType,
    DomainType,
    Provider,
)
from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.connections import insert_connection
from entryway.services.environments import Environment
from entryway.store.tables import connections, domains, organizations, signing_keys

TEST_ORGANIZATION_NAME = "Test Organization"
TEST_ORGANIZATION_EXTERNAL_ID = "entryway-test-organization"
TEST_DOMAINS = ("example.com", "example.org")


@dataclass(frozen=True)
class DevSeed:
    environment: Environment
    client_id: str
    plain_secret: str | None  # only when a secret was created on this run
    organization_id: str
    connection_id: str


def simulator_urls(env_url: str, connection_id: str) -> dict[str, str]:
    base = f"{env_url}/sso/v1/simulator/{connection_id}"
    return {"idp_entity_id": base, "idp_sso_url": f"{base}/sso"}


def seed_development(rt: Runtime, url: str, callback_url: str, *, new_secret: bool = False) -> DevSeed:
    with rt.engine.begin() as conn:
        env = _find_by_url(conn, url)
        if env is None:
            env, _ = environments.create_environment(
                rt, conn, env_type=EnvironmentType.DEVELOPMENT, url=url, display_name="Development"
            )
        client_id = environments.app_client_id(conn, env.id)
        if not environments.list_redirect_uris(conn, env.id, RedirectKind.CALLBACK) or callback_url not in {
            r.uri for r in environments.list_redirect_uris(conn, env.id, RedirectKind.CALLBACK)
        }:
            environments.add_redirect_uri(rt, conn, env, RedirectKind.CALLBACK, callback_url)
        client = credentials.get_client(conn, client_id)
        assert client is not None
        plain: str | None = None
        active = [s for s in credentials.list_secrets(conn, client_id) if s.status == "ACTIVE"]
        if not active or new_secret:
            if len(active) >= 2:
                credentials.delete_secret(conn, client, active[0].id)
            plain, _ = credentials.create_secret(rt, conn, client, created_by="entryway dev")
        org_id, conn_id = _ensure_test_organization(rt, conn, env)
    return DevSeed(env, client_id, plain, org_id, conn_id)


def _find_by_url(conn: Connection, url: str) -> Environment | None:
    host = environments.host_of(url)
    for env in environments.list_environments(conn):
        if env.host == host:
            return env
    return None


def _ensure_test_organization(rt: Runtime, conn: Connection, env: Environment) -> tuple[str, str]:
    row = conn.execute(
        select(organizations.c.id).where(
            organizations.c.environment_id == env.id,
            organizations.c.external_id == TEST_ORGANIZATION_EXTERNAL_ID,
        )
    ).first()
    now = rt.clock.now()
    if row is None:
        org_id = new_id("org")
        conn.execute(
            insert(organizations).values(
                id=org_id,
                environment_id=env.id,
                display_name=TEST_ORGANIZATION_NAME,
                external_id=TEST_ORGANIZATION_EXTERNAL_ID,
                slug="test-organization",
                logo_url=None,
                metadata={},
                create_time=now,
                update_time=now,
            )
        )
    else:
        org_id = row.id
    for name in TEST_DOMAINS:
        exists = conn.execute(
            select(domains.c.id).where(domains.c.environment_id == env.id, domains.c.domain == name)
        ).first()
        if exists is None:
            conn.execute(
                insert(domains).values(
                    id=new_id("dom"),
                    environment_id=env.id,
                    organization_id=org_id,
                    domain=name,
                    domain_type=DomainType.ORGANIZATION_DOMAIN.value,
                    verification_status="VERIFIED",
                    verification_token="seeded",
                    create_time=now,
                    update_time=now,
                )
            )
    existing = conn.execute(
        select(connections.c.id).where(
            connections.c.organization_id == org_id, connections.c.provider == Provider.IDP_SIMULATOR.value
        )
    ).first()
    if existing is not None:
        return org_id, existing.id
    sim_key = conn.execute(
        select(signing_keys.c.certificate_pem).where(
            signing_keys.c.environment_id == env.id,
            signing_keys.c.purpose == "simulator",
            signing_keys.c.status == "active",
        )
    ).first()
    if sim_key is None:
        kid = environments.add_signing_key(
            rt, conn, env.id, "simulator", status="active", common_name=f"Entryway IdP Simulator {env.url}"
        )
        cert = conn.execute(select(signing_keys.c.certificate_pem).where(signing_keys.c.id == kid)).scalar_one()
    else:
        cert = sim_key.certificate_pem
    connection_id = new_id("conn")
    created = insert_connection(
        rt,
        conn,
        env_id=env.id,
        env_url=env.url,
        organization_id=org_id,
        type=ConnectionType.SAML,
        provider=Provider.IDP_SIMULATOR,
        connection_id=connection_id,
        enabled=True,
        attribute_mapping=dict(DEFAULT_ATTRIBUTE_MAPPING),
        saml_config={
            **simulator_urls(env.url, connection_id),
            "idp_certificates": [cert],
            "idp_sso_request_binding": "HTTP_REDIRECT",
            "idp_name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "want_request_signed": False,
            "assertion_encrypted": False,
            "force_authn": False,
            "allow_idp_initiated_login": True,
        },
    )
    return org_id, created.id
