"""`entryway check` exits 1 on a fail (for CI) and 0 when nothing fails; `entryway logs purge` keeps the period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.runtime import Runtime
from entryway.services import auth_log, credentials, environments
from entryway.services.bootstrap import DevSeed
from entryway.store.after_commit import transaction
from entryway.store.tables import auth_events, client_secrets
from entryway.store.tables import environments as environment_rows
from tests.cli.conftest import Run, as_json


def test_a_development_environment_fails_the_check(run: Run, seed: DevSeed) -> None:
    result = run("check", ok=False)
    assert result.exit_code == 1
    assert "FAIL  Production environment" in result.output and "fix:" in result.output


def test_env_production_names_the_production_environment(run: Run, seed: DevSeed) -> None:
    result = run("check", "--env", "production", ok=False)
    assert "there is no production environment" in result.output


def _production(rt: Runtime) -> tuple[environments.Environment, str, str]:
    with rt.engine.begin() as conn:
        env, client_id = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://sso.acme.test", display_name="Prod"
        )
        client = credentials.environment_client(conn, env.id, client_id)
        secret, made = credentials.create_secret(rt, conn, client)
        conn.execute(update(client_secrets).where(client_secrets.c.id == made.id).values(last_used_time=rt.clock.now()))
        environments.add_redirect_uri(rt, conn, env, RedirectKind.CALLBACK, "myapp://callback")
        environments.set_initiate_login_uri(rt, conn, env, "myapp://login")
    return env, client_id, secret


def test_a_ready_environment_passes_on_postgresql(
    run: Run, rt: Runtime, backend: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    env, client_id, secret = _production(rt)
    dotenv = tmp_path / "app.env"
    dotenv.write_text(f"ENTRYWAY_ENV_URL={env.url}\nENTRYWAY_CLIENT_ID={client_id}\nENTRYWAY_CLIENT_SECRET={secret}\n")
    result = run("check", "--env", "production", "--app-env", str(dotenv), "--json", ok=backend == "postgresql")
    checks = {c["rule"]: c["status"] for c in as_json(result)["checklist"]["checks"]}
    assert checks["app_credentials"] == "pass"
    expected_fails = set() if backend == "postgresql" else {"database"}
    assert {rule for rule, status in checks.items() if status == "fail"} == expected_fails
    assert secret not in result.output


def test_a_wrong_app_env_fails(run: Run, rt: Runtime, tmp_path: Path) -> None:
    env, client_id, _ = _production(rt)
    dotenv = tmp_path / "app.env"
    dotenv.write_text(f"ENTRYWAY_ENV_URL={env.url}\nENTRYWAY_CLIENT_ID={client_id}\nENTRYWAY_CLIENT_SECRET=sec_nope\n")
    result = run("check", "--env", env.id, "--app-env", str(dotenv), ok=False)
    assert "FAIL  App credentials" in result.output


def test_logs_purge(run: Run, rt: Runtime, seed: DevSeed) -> None:
    with transaction(rt.engine) as conn:
        old = auth_log.record(rt, conn, environment_id=seed.environment.id, status="SUCCESS", step="token")
        conn.execute(
            update(auth_events).where(auth_events.c.id == old).values(create_time=rt.clock.now() - timedelta(days=100))
        )
        auth_log.record(rt, conn, environment_id=seed.environment.id, status="SUCCESS", step="token")
    result = run("logs", "purge")
    assert "1 event(s) deleted" in result.output
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(auth_events.c.id)).all()) == 1
    run("logs", "purge", "--days", "0", ok=False)


def test_an_app_env_left_on_the_old_url_fails_the_custom_domain_check(
    run: Run, rt: Runtime, tmp_path: Path, backend: str
) -> None:
    env, client_id, secret = _production(rt)
    with rt.engine.begin() as conn:  # verified as `entryway custom-domain verify` records it
        conn.execute(
            update(environment_rows)
            .where(environment_rows.c.id == env.id)
            .values(custom_domain="login.acme.test", custom_domain_verified=True)
        )
    dotenv = tmp_path / "app.env"
    dotenv.write_text(f"ENTRYWAY_ENV_URL={env.url}\nENTRYWAY_CLIENT_ID={client_id}\nENTRYWAY_CLIENT_SECRET={secret}\n")
    result = run("check", "--env", env.id, "--app-env", str(dotenv), ok=False)
    assert result.exit_code == 1
    assert "FAIL  Custom domain and issuer" in result.output
    assert "change ENTRYWAY_ENV_URL=https://sso.acme.test to ENTRYWAY_ENV_URL=https://login.acme.test" in result.output
    dotenv.write_text(
        f"ENTRYWAY_ENV_URL=https://login.acme.test\nENTRYWAY_CLIENT_ID={client_id}\nENTRYWAY_CLIENT_SECRET={secret}\n"
    )
    # Only SQLite's database rule still fails.
    moved = as_json(run("check", "--env", env.id, "--app-env", str(dotenv), "--json", ok=backend == "postgresql"))
    checks = {c["rule"]: c["status"] for c in moved["checklist"]["checks"]}
    assert checks["custom_domain"] == "pass" and checks["app_credentials"] == "pass"
