"""GET /api/v1/environment/checklist: every rule with its status and fix, judged for the caller's environment."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from entryway.app import create_app
from entryway.model.environments import EnvironmentType
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import environments as environment_rows
from tests.api.conftest import client_with, token_for


def test_the_development_environment_is_not_ready(api: TestClient) -> None:
    response = api.get("/api/v1/environment/checklist")
    assert response.status_code == 200, response.text
    checklist = response.json()["checklist"]
    assert checklist["status"] == "fail"
    checks = {c["rule"]: c for c in checklist["checks"]}
    assert checks["environment_type"]["status"] == "fail" and checks["environment_type"]["fix"]
    assert checks["https_url"]["status"] == "fail"
    assert checks["app_credentials"]["status"] == "pass"  # asked with the app client's own credentials
    assert checks["redirect_uris"]["docs"] == "docs/checklist.md#redirect-uris"
    assert sum(checklist["counts"].values()) == len(checks)


def test_needs_environment_read(rt: Runtime, seed: DevSeed) -> None:
    with client_with(rt, seed, token_for(rt, seed, ["organizations:read"])) as client:
        assert client.get("/api/v1/environment/checklist").status_code == 403


def test_an_api_client_is_told_the_app_credentials_were_not_checked(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        api_client = credentials.create_api_client(rt, conn, seed.environment.id, "ci", ["environment:read"])
    with client_with(rt, seed, token_for(rt, seed, ["environment:read"], api_client.id)) as client:
        checks = {c["rule"]: c for c in client.get("/api/v1/environment/checklist").json()["checklist"]["checks"]}
    assert checks["app_credentials"]["status"] == "warn"


def test_the_app_calling_on_its_old_url_fails_the_custom_domain_check(rt: Runtime) -> None:
    """The environment is judged as the request reached it: the app's own URL is the one it called on."""
    with rt.engine.begin() as conn:
        env, client_id = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://acme.entryway.test", display_name="Prod"
        )
        conn.execute(
            update(environment_rows)
            .where(environment_rows.c.id == env.id)
            .values(custom_domain="sso.acme.test", custom_domain_verified=True)
        )
    token = access_tokens.mint(rt, env, client_id=client_id, subject=client_id, ttl_seconds=600, scopes=["*"]).token
    app = create_app(rt)
    auth = {"Authorization": f"Bearer {token}"}

    def custom_domain_check(base_url: str) -> dict[str, str]:
        with TestClient(app, base_url=base_url, headers=auth) as client:
            response = client.get("/api/v1/environment/checklist")
        assert response.status_code == 200, response.text
        return next(c for c in response.json()["checklist"]["checks"] if c["rule"] == "custom_domain")

    old = custom_domain_check("https://acme.entryway.test")
    assert old["status"] == "fail" and "ENTRYWAY_ENV_URL=https://sso.acme.test" in old["fix"]
    assert custom_domain_check("https://sso.acme.test")["status"] == "pass"
