"""`entryway env`, `redirect-uris` and `initiate-login`."""

from __future__ import annotations

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from tests.cli.conftest import Run, as_json


def test_env_create_and_list(rt: Runtime, run: Run, seed: DevSeed) -> None:
    made = as_json(
        run("env", "create", "--type", "production", "--url", "https://sso.acme.test", "--name", "Prod", "--json")
    )
    assert (
        made["type"] == "production" and made["url"] == "https://sso.acme.test" and made["client_id"].startswith("skc_")
    )
    listed = as_json(run("env", "list", "--json"))["environments"]
    assert [e["id"] for e in listed] == [seed.environment.id, made["id"]]
    human = run("env", "list").stdout
    assert "sso.acme.test" in human and "production" in human and "CLIENT ID" in human


def test_env_create_errors_print_each_violation(rt: Runtime, run: Run) -> None:
    result = run("env", "create", "--type", "production", "--url", "http://sso.acme.test/path", ok=False)
    assert "url: a production environment URL must use https" in result.output
    assert "without path" in result.output
    with rt.engine.connect() as conn:
        assert environments.list_environments(conn) == []
    assert run("env", "create", "--type", "staging", "--url", "https://x.test", ok=False).exit_code == 2


def test_redirect_uris_add_list_remove(rt: Runtime, run: Run, seed: DevSeed) -> None:
    run("redirect-uris", "add", "https://app.acme.com/cb")
    run("redirect-uris", "add", "https://app.acme.com/bye", "--kind", "post_logout")
    listed = as_json(run("redirect-uris", "list", "--json"))["redirect_uris"]
    assert [(u["kind"], u["uri"]) for u in listed] == [
        ("callback", "http://localhost:3000/callback"),
        ("callback", "https://app.acme.com/cb"),
        ("post_logout", "https://app.acme.com/bye"),
    ]
    run("redirect-uris", "remove", "http://localhost:3000/callback", "--env", seed.environment.id)
    with rt.engine.connect() as conn:
        left = environments.list_redirect_uris(conn, seed.environment.id, RedirectKind.CALLBACK)
    assert [(u.uri, u.is_default) for u in left] == [("https://app.acme.com/cb", True)]


def test_redirect_uri_errors(run: Run, seed: DevSeed) -> None:
    bad = run("redirect-uris", "add", "https://*.com/cb?x=1", ok=False)
    assert "Error:" in bad.output and "uri:" in bad.output and "query" in bad.output
    dup = run("redirect-uris", "add", "http://localhost:3000/callback", ok=False)
    assert "already registered" in dup.output
    last = run("redirect-uris", "remove", "http://localhost:3000/callback", ok=False)
    assert "last callback" in last.output
    assert "no environment env_nope" in run("redirect-uris", "list", "--env", "env_nope", ok=False).output


def test_initiate_login_set(rt: Runtime, run: Run, seed: DevSeed) -> None:
    run("initiate-login", "set", "http://localhost:3000/login")
    run("initiate-login", "set", "http://localhost:3000/start")
    with rt.engine.connect() as conn:
        uris = environments.list_redirect_uris(conn, seed.environment.id, RedirectKind.INITIATE_LOGIN)
    assert [u.uri for u in uris] == ["http://localhost:3000/start"]
    assert "fragment" in run("initiate-login", "set", "http://localhost:3000/x#y", ok=False).output


def test_default_environment_is_the_first_development_one(run: Run, seed: DevSeed) -> None:
    run("env", "create", "--type", "development", "--url", "http://second.localhost:9000")
    shown = as_json(run("redirect-uris", "list", "--json"))["redirect_uris"]
    assert [u["uri"] for u in shown] == ["http://localhost:3000/callback"]


def test_no_environment_says_how_to_make_one(run: Run) -> None:
    assert "entryway dev" in run("orgs", "list", ok=False).output
