"""`entryway orgs`, `domains` and `connections`."""

from __future__ import annotations

from pathlib import Path

import pytest

from entryway.keys.material import certificate_body, certificate_pem, generate_rsa_key, self_signed_certificate
from entryway.runtime import Runtime
from entryway.services import connections, organizations
from entryway.services.bootstrap import DevSeed
from entryway.services.domains import find_by_domain
from tests.api.fake_dns import dns_server
from tests.cli.conftest import Run, as_json


@pytest.fixture(scope="module")
def cert_pem() -> str:
    return certificate_pem(self_signed_certificate(generate_rsa_key(), "Acme IdP"))


def test_orgs_create_get_update_list_delete(rt: Runtime, run: Run, seed: DevSeed) -> None:
    org = as_json(run("orgs", "create", "Acme", "--external-id", "crm-1", "--metadata", "tier=gold", "--json"))
    assert org["display_name"] == "Acme" and org["metadata"] == {"tier": "gold"}
    assert as_json(run("orgs", "get", "ext:crm-1", "--json"))["id"] == org["id"]
    run("orgs", "update", org["id"], "--name", "Acme Corp", "--external-id", "")
    shown = run("orgs", "get", org["id"]).stdout
    assert "Acme Corp" in shown and "crm-1" not in shown
    names = [o["display_name"] for o in as_json(run("orgs", "list", "--json"))["organizations"]]
    assert names == ["Test Organization", "Acme Corp"]
    run("orgs", "delete", org["id"], input="n\n", ok=False)
    run("orgs", "delete", org["id"], "--yes")
    with rt.engine.connect() as conn:
        assert organizations.find_organization(conn, seed.environment.id, org["id"]) is None


def test_org_errors_list_every_field_and_store_nothing(rt: Runtime, run: Run, seed: DevSeed) -> None:
    result = run("orgs", "create", " ", "--slug", "Bad Slug", "--logo-url", "http://x", ok=False)
    assert "display_name:" in result.output and "slug:" in result.output and "logo_url:" in result.output
    assert "409" not in result.output
    dup = run("orgs", "create", "Again", "--external-id", "entryway-test-organization", ok=False)
    assert "external_id" in dup.output
    assert run("orgs", "create", "X", "--metadata", "novalue", ok=False).exit_code == 2
    with rt.engine.connect() as conn:
        assert organizations.count_organizations(conn, seed.environment.id) == 1
    assert "was not found" in run("orgs", "get", "org_nope", ok=False).output


def test_domains_add_list_verify_remove(run: Run, seed: DevSeed) -> None:
    added = as_json(run("domains", "add", "acme.com", "--org", seed.organization_id, "--json"))
    record = added["verification_record"]
    human = run("domains", "add", "acme.io", "--org", seed.organization_id).stdout
    assert "_entryway-verification.acme.io" in human
    listed = as_json(run("domains", "list", "--org", seed.organization_id, "--json"))["domains"]
    names = [d["domain"] for d in listed]
    assert sorted(names[:2]) == ["example.com", "example.org"] and names[2:] == ["acme.com", "acme.io"]
    with dns_server() as dns:
        env = {"ENTRYWAY_DNS_NAMESERVER": dns.address}
        failed = run("domains", "verify", added["id"], "--org", seed.organization_id, env=env, ok=False)
        assert "FAILED" in failed.output and "does not exist" in failed.output
        dns.txt[record["name"]] = [record["value"]]
        verified = run("domains", "verify", added["id"], "--org", seed.organization_id, env=env)
        assert "VERIFIED" in verified.stdout
    run("domains", "remove", added["id"], "--org", seed.organization_id)
    assert "acme.com" not in run("domains", "list", "--org", seed.organization_id).stdout
    assert "already registered" in run("domains", "add", "example.com", "--org", seed.organization_id, ok=False).output
    assert "domain:" in run("domains", "add", "*.acme.com", "--org", seed.organization_id, ok=False).output


def test_connections_create_enable_disable_delete(
    rt: Runtime, run: Run, seed: DevSeed, cert_pem: str, tmp_path: Path
) -> None:
    pem_file = tmp_path / "idp.pem"
    pem_file.write_text(cert_pem)
    b64_file = tmp_path / "idp.b64"
    b64_file.write_text(certificate_body(cert_pem))
    made = as_json(
        run(
            "connections",
            "create",
            "--org",
            seed.organization_id,
            "--provider",
            "OKTA",
            "--idp-entity-id",
            "http://www.okta.com/exk1",
            "--idp-sso-url",
            "https://acme.okta.com/app/sso/saml",
            "--cert-file",
            str(pem_file),
            "--cert-file",
            str(b64_file),
            "--force-authn",
            "--enable",
            "--json",
        )
    )
    assert made["enabled"] is True and made["provider"] == "OKTA"
    assert made["saml_config"]["force_authn"] is True
    assert len(made["saml_config"]["idp_certificates"]) == 1  # the same certificate twice is stored once
    shown = run("connections", "get", made["id"]).stdout
    assert "sp_entity_id" in shown and "sp_metadata_url" in shown and "expires" in shown
    listed = as_json(run("connections", "list", "--domain", "example.com", "--json"))["connections"]
    assert {c["id"] for c in listed} == {seed.connection_id, made["id"]}
    assert as_json(run("connections", "list", "--domain", "nobody.test", "--json"))["connections"] == []
    run("connections", "disable", made["id"])
    with rt.engine.connect() as conn:
        assert connections.get_connection(conn, seed.environment.id, made["id"]).enabled is False
    run("connections", "delete", made["id"], "--yes")
    with rt.engine.connect() as conn:
        assert connections.find_connection(conn, seed.environment.id, made["id"]) is None


def test_connection_errors_name_the_fields(rt: Runtime, run: Run, seed: DevSeed, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    result = run(
        "connections",
        "create",
        "--org",
        seed.organization_id,
        "--idp-sso-url",
        "ftp://idp",
        "--cert-file",
        str(junk),
        ok=False,
    )
    assert "saml_config.idp_sso_url" in result.output and "saml_config.idp_certificates[0]" in result.output
    incomplete = as_json(run("connections", "create", "--org", seed.organization_id, "--json"))
    refused = run("connections", "enable", incomplete["id"], ok=False)
    assert "idp_entity_id" in refused.output and "idp_certificates" in refused.output
    with rt.engine.connect() as conn:
        assert connections.count_connections(conn, seed.environment.id) == 2
        assert find_by_domain(conn, seed.environment.id, "example.com") is not None
