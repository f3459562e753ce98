"""`entryway secrets` and `entryway api-clients`."""

from __future__ import annotations

from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.bootstrap import DevSeed
from tests.cli.conftest import Run, as_json


def test_secrets_lifecycle(rt: Runtime, run: Run, seed: DevSeed) -> None:
    created = run("secrets", "create")
    line = next(ln for ln in created.stdout.splitlines() if ln.startswith("ENTRYWAY_CLIENT_SECRET="))
    plain = line.split("=", 1)[1]
    assert credentials.authenticate_client(rt, seed.client_id, plain) is not None
    listed = as_json(run("secrets", "list", "--json"))["secrets"]
    assert len(listed) == 2 and plain not in str(listed)
    newest = listed[-1]["id"]
    assert "…" + plain[-4:] in run("secrets", "list").stdout
    run("secrets", "deactivate", newest)
    assert credentials.authenticate_client(rt, seed.client_id, plain) is None
    run("secrets", "activate", newest)
    assert credentials.authenticate_client(rt, seed.client_id, plain) is not None
    run("secrets", "delete", newest)
    assert len(as_json(run("secrets", "list", "--json"))["secrets"]) == 1


def test_secret_errors(run: Run, seed: DevSeed) -> None:
    run("secrets", "create")
    third = run("secrets", "create", ok=False)
    assert "at most 2 active secrets" in third.output
    assert "secret sec_nope was not found" in run("secrets", "delete", "sec_nope", ok=False).output
    assert "client skc_nope was not found" in run("secrets", "list", "--client", "skc_nope", ok=False).output


def test_api_client_create_prints_id_and_secret_once(rt: Runtime, run: Run, seed: DevSeed) -> None:
    out = as_json(run("api-clients", "create", "--scope", "organizations:read", "--scope", "logs:read", "--json"))
    client = out["client"]
    assert client["kind"] == "api" and client["scopes"] == ["organizations:read", "logs:read"]
    assert credentials.authenticate_client(rt, client["id"], out["plain_secret"]) is not None
    human = run("api-clients", "create", "--scope", "*", "--name", "ops").stdout
    assert "client id:" in human and "secret:" in human and "ews_" in human
    kinds = [c["kind"] for c in as_json(run("api-clients", "list", "--json"))["clients"]]
    assert kinds == ["app", "api", "api"]
    assert run("api-clients", "create", "--scope", "root", ok=False).exit_code == 2
    assert run("api-clients", "create", ok=False).exit_code == 2
