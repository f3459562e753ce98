"""`entryway connections create --type OIDC` reads the IdP before saving; `entryway connections check` reads it
on request. Failures name the field with what was wanted and got, and store nothing."""

from __future__ import annotations

import json

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.services.connections import list_connections
from tests.cli.conftest import Run
from tests.connectors.oidc.provider import CLIENT_ID, CLIENT_SECRET, Provider

ALLOW = {"ENTRYWAY_ALLOW_PRIVATE_FETCH": "1"}


def create_args(seed: DevSeed, issuer: str) -> list[str]:
    return [
        "connections", "create", "--org", seed.organization_id, "--type", "OIDC", "--provider", "OKTA",
        "--oidc-issuer", issuer, "--oidc-client-id", CLIENT_ID, "--oidc-client-secret", CLIENT_SECRET,
    ]  # fmt: skip


def oidc_count(ort: Runtime, seed: DevSeed) -> int:
    with ort.engine.connect() as db:
        return sum(c.type.value == "OIDC" for c in list_connections(db, seed.environment.id))


def test_create_reads_the_idp_and_check_reports_it(ort: Runtime, seed: DevSeed, op: Provider, run: Run) -> None:
    op.discovery_extra = {"issuer": "https://login.other.example"}
    refused = run(*create_args(seed, op.issuer), env=ALLOW, ok=False)
    assert "oidc_config.issuer" in refused.output and "wanted " + op.issuer in refused.output
    assert oidc_count(ort, seed) == 0
    private = run(*create_args(seed, op.issuer), ok=False)  # without the operator's permission
    assert "ENTRYWAY_ALLOW_PRIVATE_FETCH" in private.output
    op.discovery_extra = {}
    created = json.loads(run(*create_args(seed, op.issuer), "--enable", "--json", env=ALLOW).stdout)
    assert created["enabled"] is True and oidc_count(ort, seed) == 1
    checked = json.loads(run("connections", "check", created["id"], "--json", env=ALLOW).stdout)["check"]
    assert checked["issuer"] == op.issuer and checked["jwks_uri"] == f"{op.base}/jwks"
    op.discovery_override = (200, "text/html", b"<html>down for maintenance</html>")
    broken = run("connections", "check", created["id"], env=ALLOW, ok=False)
    assert "oidc_config.issuer" in broken.output and "got an HTML page" in broken.output
