"""`entryway custom-domain set|verify|show|remove`, against a real DNS server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import seed_development
from tests.api.fake_dns import DnsServer, dns_server
from tests.cli.conftest import Run, as_json


@pytest.fixture
def nameserver() -> Iterator[DnsServer]:
    with dns_server() as server:
        yield server


@pytest.fixture
def env_id(rt: Runtime) -> str:
    with rt.engine.begin() as conn:
        env, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://acme.entryway.test", display_name="Prod"
        )
    return env.id


def test_set_verify_show_remove(run: Run, env_id: str, nameserver: DnsServer) -> None:
    dns = {"ENTRYWAY_DNS_NAMESERVER": nameserver.address}
    out = run("custom-domain", "set", "sso.acme.test", "--env", env_id).stdout
    assert "DNS record: sso.acme.test CNAME acme.entryway.test" in out and "status: PENDING" in out
    nameserver.cname["sso.acme.test"] = "elsewhere.example.net"
    failed = run("custom-domain", "verify", "--env", env_id, env=dns, ok=False)
    assert "change the record's value to acme.entryway.test" in failed.stdout
    nameserver.cname["sso.acme.test"] = "acme.entryway.test"
    verified = run("custom-domain", "verify", "--env", env_id, env=dns).stdout
    assert "app .env: ENTRYWAY_ENV_URL=https://sso.acme.test  (was https://acme.entryway.test)" in verified
    shown = as_json(run("custom-domain", "show", "--env", env_id, "--json"))["custom_domain"]
    assert shown["status"] == "VERIFIED" and shown["environment_url"] == "https://sso.acme.test"
    run("custom-domain", "remove", "--env", env_id, input="n\n", ok=False)
    removed = run("custom-domain", "remove", "--env", env_id, "--yes").stdout
    assert "app .env: ENTRYWAY_ENV_URL=https://acme.entryway.test" in removed


def test_a_development_environment_is_refused(run: Run, rt: Runtime) -> None:
    seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    result = run("custom-domain", "set", "sso.acme.test", ok=False)
    assert "production environments" in result.output
