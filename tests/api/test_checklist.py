"""GET /api/v1/environment/checklist: every rule with its status and fix, judged for the caller's environment."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.bootstrap import DevSeed
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
