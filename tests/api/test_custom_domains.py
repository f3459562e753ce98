"""Custom domains: CNAME verification against a real DNS server on loopback, routing by Host, issuers, and
connections keeping the SP URLs their IdPs were given (CONTRACT §4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.connectors.oidc.client import connection_base_url, connection_redirect_uri
from entryway.model.connections import ConnectionType, Provider
from entryway.model.environments import EnvironmentType
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from entryway.services.connections import find_connection, insert_connection
from entryway.services.organizations import create_organization
from tests.api.fake_dns import DnsServer

BASE = "https://acme.entryway.test"
CUSTOM = "sso.acme.test"


@dataclass
class Production:
    rt: Runtime
    env: environments.Environment
    client_id: str
    org_id: str

    def client(self, url: str = BASE) -> TestClient:
        token = access_tokens.mint(
            self.rt, self.env, client_id=self.client_id, subject=self.client_id, ttl_seconds=600, scopes=["*"]
        ).token
        return TestClient(create_app(self.rt), base_url=url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def prod(rt: Runtime, dns_server: DnsServer) -> Iterator[Production]:
    with rt.engine.begin() as conn:
        env, client_id = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url=BASE, display_name="Production"
        )
        org = create_organization(rt, conn, env.id, display_name="Acme")
    yield Production(rt, env, client_id, org.id)


def _saml_connection(prod: Production, env_url: str) -> str:
    with prod.rt.engine.begin() as conn:
        return insert_connection(
            prod.rt,
            conn,
            env_id=prod.env.id,
            env_url=env_url,
            organization_id=prod.org_id,
            type=ConnectionType.SAML,
            provider=Provider.OKTA,
        ).id


def _verified(prod: Production, dns_server: DnsServer, api: TestClient) -> None:
    assert api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).status_code == 200
    dns_server.cname[CUSTOM] = "acme.entryway.test"
    answer = api.patch("/api/v1/environment/custom-domain:verify")
    assert answer.json()["verified"] is True, answer.json()


def test_a_development_environment_has_no_custom_domain(api: TestClient, seed: DevSeed) -> None:
    answer = api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM})
    assert answer.status_code == 412
    assert "production environments" in answer.json()["message"]


def test_setting_a_domain_gives_the_cname_record_and_changes_nothing_yet(prod: Production) -> None:
    with prod.client() as api:
        answer = api.put("/api/v1/environment/custom-domain", json={"domain": "SSO.Acme.Test."})
        assert answer.status_code == 200, answer.text
        domain = answer.json()["custom_domain"]
        assert domain["domain"] == CUSTOM and domain["status"] == "PENDING"
        assert domain["cname_record"] == {"type": "CNAME", "name": CUSTOM, "value": "acme.entryway.test"}
        assert domain["environment_url"] == BASE and domain["env_file_changes"] == []
        assert api.get("/api/v1/environment").json()["environment"]["url"] == BASE
    with TestClient(create_app(prod.rt), base_url=f"https://{CUSTOM}") as browser:
        assert browser.get("/.well-known/openid-configuration").status_code == 404  # not served before verification


def test_the_cname_target_can_be_the_operators_ingress(prod: Production) -> None:
    prod.rt.settings = replace(prod.rt.settings, custom_domain_target="ingress.entryway.test")
    with prod.client() as api:
        domain = api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).json()["custom_domain"]
    assert domain["cname_record"]["value"] == "ingress.entryway.test"


@pytest.mark.parametrize(
    "domain", ["https://sso.acme.test", "*.acme.test", "acme", "192.0.2.1", "sso_.acme.test", "acme.entryway.test"]
)
def test_a_bad_domain_is_a_field_named_400(prod: Production, domain: str) -> None:
    with prod.client() as api:
        answer = api.put("/api/v1/environment/custom-domain", json={"domain": domain})
        assert answer.status_code == 400
        assert answer.json()["details"][0]["validation_error_info"]["field_violations"][0]["field"] == "domain"
        assert api.get("/api/v1/environment/custom-domain").json()["custom_domain"]["status"] == "NONE"


def test_another_environments_domain_is_a_409(prod: Production, rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        other, client_id = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://other.entryway.test", display_name="Other"
        )
    with prod.client() as api:
        assert api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).status_code == 200
    second = Production(rt, other, client_id, "")
    with second.client("https://other.entryway.test") as api:
        assert api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).status_code == 409
        assert api.put("/api/v1/environment/custom-domain", json={"domain": "acme.entryway.test"}).status_code == 409


def test_a_cname_pointing_elsewhere_says_what_to_change(prod: Production, dns_server: DnsServer) -> None:
    dns_server.cname[CUSTOM] = "old-provider.example.net"
    with prod.client() as api:
        api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM})
        answer = api.patch("/api/v1/environment/custom-domain:verify")
    assert answer.status_code == 200
    body = answer.json()
    assert body["verified"] is False and body["custom_domain"]["status"] == "PENDING"
    assert body["dns_check"]["found_values"] == ["old-provider.example.net"]
    message = body["dns_check"]["message"]
    assert "is a CNAME for old-provider.example.net, not for acme.entryway.test" in message
    assert "change the record's value to acme.entryway.test" in message


def test_a_missing_record_or_foreign_addresses_say_what_to_add(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM})
        missing = api.patch("/api/v1/environment/custom-domain:verify").json()
        assert missing["verified"] is False
        assert (
            missing["dns_check"]["message"]
            == f"{CUSTOM} does not exist in DNS: add the record {CUSTOM} CNAME acme.entryway.test"
        )
        dns_server.a[CUSTOM] = [["192.0.2.10"]]
        dns_server.a["acme.entryway.test"] = [["198.51.100.7"]]
        foreign = api.patch("/api/v1/environment/custom-domain:verify").json()
    assert foreign["verified"] is False
    assert "its addresses (192.0.2.10) are not acme.entryway.test's" in foreign["dns_check"]["message"]


def test_a_flattened_alias_with_the_targets_addresses_verifies(prod: Production, dns_server: DnsServer) -> None:
    dns_server.a[CUSTOM] = [["198.51.100.7"]]
    dns_server.a["acme.entryway.test"] = [["198.51.100.7"]]
    with prod.client() as api:
        api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM})
        answer = api.patch("/api/v1/environment/custom-domain:verify").json()
    assert answer["verified"] is True and "(ALIAS)" in answer["dns_check"]["message"]


def test_verifying_without_a_domain_is_a_precondition_failure(prod: Production) -> None:
    with prod.client() as api:
        assert api.patch("/api/v1/environment/custom-domain:verify").status_code == 412


def test_a_verified_domain_serves_the_environment_with_its_own_issuer(prod: Production, dns_server: DnsServer) -> None:
    old_connection = _saml_connection(prod, BASE)
    with prod.client() as api:
        _verified(prod, dns_server, api)
        domain = api.get("/api/v1/environment/custom-domain").json()["custom_domain"]
        assert domain["status"] == "VERIFIED" and domain["environment_url"] == f"https://{CUSTOM}"
        assert domain["env_file_changes"] == [
            {"name": "ENTRYWAY_ENV_URL", "value": f"https://{CUSTOM}", "previous_value": BASE}
        ]
        assert "ENTRYWAY_CLIENT_ID and ENTRYWAY_CLIENT_SECRET stay the same" in domain["instructions"]
        environment = api.get("/api/v1/environment").json()["environment"]
        assert environment["url"] == f"https://{CUSTOM}" and environment["custom_domain"] == CUSTOM
        # The environment's own URL still serves, with its own issuer: an app moves at its own pace.
        assert api.get("/.well-known/openid-configuration").json()["issuer"] == BASE
    with prod.client(f"https://{CUSTOM}") as custom:
        discovery = custom.get("/.well-known/openid-configuration").json()
        assert discovery["issuer"] == f"https://{CUSTOM}"
        assert discovery["token_endpoint"] == f"https://{CUSTOM}/oauth/token"
        # The existing connection keeps the SP URLs its IdP was given; a new one is made on the custom domain.
        kept = custom.get(f"/api/v1/organizations/{prod.org_id}/connections/{old_connection}").json()["connection"]
        assert kept["saml_config"]["sp_assertion_url"] == f"{BASE}/sso/v1/saml/{old_connection}/callback"
        assert kept["saml_config"]["sp_metadata_url"] == f"{BASE}/sso/v1/saml/{old_connection}/metadata"
        created = custom.post(
            f"/api/v1/organizations/{prod.org_id}/connections", json={"type": "SAML", "provider": "OKTA"}
        )
        assert created.status_code == 201, created.text
        new = created.json()["connection"]
        assert new["saml_config"]["sp_entity_id"] == f"https://{CUSTOM}/sso/v1/saml/{new['id']}"
    # A connection made through the old URL after verification also gets the custom domain (public_url).
    with prod.client() as api:
        made = api.post(f"/api/v1/organizations/{prod.org_id}/connections", json={"type": "SAML", "provider": "OKTA"})
        assert made.json()["connection"]["saml_config"]["sp_assertion_url"].startswith(f"https://{CUSTOM}/")
    # The old connection's metadata is served on its own host still.
    with TestClient(create_app(prod.rt), base_url=BASE) as browser:
        assert browser.get(f"/sso/v1/saml/{old_connection}/metadata").status_code == 200


def test_a_token_from_either_url_is_good_on_both(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        _verified(prod, dns_server, api)
    routed = environments.environment_for_host(prod.rt, CUSTOM)
    assert routed is not None and routed.url == f"https://{CUSTOM}"
    token = access_tokens.mint(
        prod.rt, routed, client_id=prod.client_id, subject=prod.client_id, ttl_seconds=600, scopes=["*"]
    ).token
    with TestClient(create_app(prod.rt), base_url=BASE, headers={"Authorization": f"Bearer {token}"}) as api:
        assert api.get("/api/v1/environment").status_code == 200


def test_oidc_connections_keep_their_redirect_uri(prod: Production, dns_server: DnsServer) -> None:
    with prod.rt.engine.begin() as conn:
        before = insert_connection(
            prod.rt,
            conn,
            env_id=prod.env.id,
            env_url=BASE,
            organization_id=prod.org_id,
            type=ConnectionType.OIDC,
            provider=Provider.CUSTOM,
            oidc_config={"issuer": "https://idp.example.com", "client_id": "c"},
        )
    with prod.client() as api:
        _verified(prod, dns_server, api)
    routed = environments.environment_for_host(prod.rt, CUSTOM)
    assert routed is not None
    assert connection_redirect_uri(before, routed) == f"{BASE}/sso/v1/oidc/{before.id}/callback"
    assert connection_base_url(before, routed) == BASE
    with prod.rt.engine.connect() as conn:
        stored = find_connection(conn, prod.env.id, before.id)
    assert stored is not None and stored.oidc_config["redirect_uri"] == f"{BASE}/sso/v1/oidc/{before.id}/callback"


def test_another_domain_while_one_is_verified_is_refused(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        _verified(prod, dns_server, api)
        answer = api.put("/api/v1/environment/custom-domain", json={"domain": "login.acme.test"})
        assert answer.status_code == 409 and "remove it first" in answer.json()["message"]
        assert api.get("/api/v1/environment/custom-domain").json()["custom_domain"]["domain"] == CUSTOM


def test_removal_is_refused_while_connections_live_on_the_domain(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        _verified(prod, dns_server, api)
        made = api.post(f"/api/v1/organizations/{prod.org_id}/connections", json={"type": "SAML", "provider": "OKTA"})
        conn_id = made.json()["connection"]["id"]
        refused = api.delete("/api/v1/environment/custom-domain")
        assert refused.status_code == 409 and conn_id in refused.json()["message"]
        assert api.get("/api/v1/environment/custom-domain").json()["custom_domain"]["status"] == "VERIFIED"
        assert api.delete(f"/api/v1/organizations/{prod.org_id}/connections/{conn_id}").status_code == 200
        removed = api.delete("/api/v1/environment/custom-domain")
        assert removed.status_code == 200
        domain = removed.json()["custom_domain"]
        assert domain["status"] == "NONE"
        assert domain["env_file_changes"] == [
            {"name": "ENTRYWAY_ENV_URL", "value": BASE, "previous_value": f"https://{CUSTOM}"}
        ]
    with TestClient(create_app(prod.rt), base_url=f"https://{CUSTOM}") as browser:
        assert browser.get("/.well-known/openid-configuration").status_code == 404


def test_portal_links_move_to_the_verified_custom_domain(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        before = api.put(f"/api/v1/organizations/{prod.org_id}/portal_links", json={"link_type": "SHAREABLE"})
        assert before.status_code in (200, 201), before.text
        assert before.json()["link"]["location"].startswith(f"{BASE}/portal/links/")
        _verified(prod, dns_server, api)
        # Asked through the old URL: the link still points where the portal now lives.
        after = api.put(f"/api/v1/organizations/{prod.org_id}/portal_links", json={"link_type": "SHAREABLE"})
    assert after.json()["link"]["location"].startswith(f"https://{CUSTOM}/portal/links/"), after.json()


def _permission(
    prod: Production, domain: str | list[str] | None, peer: str = "127.0.0.1"
) -> tuple[int, dict[str, object]]:
    # The proxy asks from its own address with no environment's Host: any Host must do.
    app = create_app(prod.rt)
    with TestClient(app, base_url="http://127.0.0.1:8000", client=(peer, 40000)) as proxy:
        answer = proxy.get("/tls/permission", params={} if domain is None else {"domain": domain})
    assert answer.headers["cache-control"] == "no-store"
    return answer.status_code, answer.json()


def test_the_proxy_may_get_a_certificate_for_a_custom_domain_pending_or_verified(
    prod: Production, dns_server: DnsServer
) -> None:
    assert _permission(prod, CUSTOM)[0] == 404  # not set yet
    with prod.client() as api:
        assert api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).status_code == 200
        assert _permission(prod, CUSTOM) == (200, {"domain": CUSTOM, "allowed": True})  # pending
        assert _permission(prod, "SSO.ACME.TEST.")[0] == 200  # as a proxy may spell it
        dns_server.cname[CUSTOM] = "acme.entryway.test"
        assert api.patch("/api/v1/environment/custom-domain:verify").json()["verified"] is True
        assert _permission(prod, CUSTOM)[0] == 200  # verified
        assert api.delete("/api/v1/environment/custom-domain").status_code == 200
    assert _permission(prod, CUSTOM)[0] == 404  # removed: no new certificate


def test_the_proxy_may_get_a_certificate_for_an_environments_own_host(prod: Production) -> None:
    assert _permission(prod, "acme.entryway.test")[0] == 200


@pytest.mark.parametrize("name", ["evil.example", "sub.sso.acme.test", "acme.entryway.test.evil.example", "10.0.0.1"])
def test_a_strangers_name_gets_no_certificate(prod: Production, name: str) -> None:
    status, body = _permission(prod, name)
    assert (status, body["allowed"], body["error"]) == (404, False, "not_found")


@pytest.mark.parametrize("domain", [None, "", ["a.test", "b.test"], "x" * 254])
def test_a_malformed_question_is_a_400(prod: Production, domain: str | list[str] | None) -> None:
    status, body = _permission(prod, domain)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "?domain=" in str(body["error_description"])


def test_only_the_proxy_may_ask(prod: Production, dns_server: DnsServer) -> None:
    with prod.client() as api:
        assert api.put("/api/v1/environment/custom-domain", json={"domain": CUSTOM}).status_code == 200
    assert _permission(prod, CUSTOM, peer="::1")[0] == 200
    status, body = _permission(prod, CUSTOM, peer="203.0.113.7")  # a stranger learns nothing of pending names
    assert (status, body["error"]) == (403, "access_denied") and CUSTOM not in str(body)
    proxied = replace(prod, rt=replace(prod.rt, settings=replace(prod.rt.settings, trusted_proxies=("10.0.0.0/24",))))
    assert _permission(proxied, CUSTOM, peer="10.0.0.5")[0] == 200
    assert _permission(proxied, CUSTOM, peer="10.0.1.5")[0] == 403
