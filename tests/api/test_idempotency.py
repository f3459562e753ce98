"""Idempotency-Key on POST: the same key and request return the first answer for 24 h; a different request under
the key is 422; a running one is 409; a refused request frees its key; keys belong to one client."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import idempotency_keys, organizations
from tests.api.conftest import client_with, token_for

KEY = {"Idempotency-Key": "8e0f4c2a-retry-1"}


def organization_count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(organizations)).scalar_one())


def test_a_repeated_post_returns_the_first_answer(api: TestClient, rt: Runtime) -> None:
    before = organization_count(rt)
    first = api.post("/api/v1/organizations", json={"display_name": "Acme", "external_id": "acme"}, headers=KEY)
    again = api.post("/api/v1/organizations", content=b'{"external_id":"acme",  "display_name":"Acme"}', headers=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert organization_count(rt) == before + 1


def test_without_a_key_each_post_acts(api: TestClient, rt: Runtime) -> None:
    before = organization_count(rt)
    assert api.post("/api/v1/organizations", json={"display_name": "One"}).status_code == 201
    assert api.post("/api/v1/organizations", json={"display_name": "One"}).status_code == 201
    assert organization_count(rt) == before + 2


def test_a_different_request_under_the_same_key_is_422(api: TestClient, rt: Runtime) -> None:
    assert api.post("/api/v1/organizations", json={"display_name": "Acme"}, headers=KEY).status_code == 201
    before = organization_count(rt)
    other = api.post("/api/v1/organizations", json={"display_name": "Globex"}, headers=KEY)
    assert other.status_code == 422
    violations = other.json()["details"][0]["validation_error_info"]["field_violations"]
    assert violations[0]["field"] == "Idempotency-Key"
    org_id = api.get("/api/v1/organizations").json()["organizations"][-1]["id"]
    elsewhere = api.post(f"/api/v1/organizations/{org_id}/domains", json={"domain": "acme.test"}, headers=KEY)
    assert elsewhere.status_code == 422  # the key names one request, whatever the path
    assert organization_count(rt) == before


def test_a_refused_request_frees_its_key(api: TestClient) -> None:
    refused = api.post("/api/v1/organizations", json={"display_name": "Acme", "slug": "NOT A SLUG"}, headers=KEY)
    assert refused.status_code == 400
    fixed = api.post("/api/v1/organizations", json={"display_name": "Acme", "slug": "acme"}, headers=KEY)
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


def test_a_running_request_makes_the_retry_wait(api: TestClient, rt: Runtime) -> None:
    assert api.post("/api/v1/organizations", json={"display_name": "Acme"}, headers=KEY).status_code == 201
    with rt.engine.begin() as conn:  # as if the first request had not finished yet
        conn.execute(update(idempotency_keys).values(status_code=None, sealed_response=None))
    running = api.post("/api/v1/organizations", json={"display_name": "Acme"}, headers=KEY)
    assert running.status_code == 409
    assert "still running" in running.json()["message"]


def test_keys_belong_to_one_client(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        other = credentials.create_api_client(rt, conn, seed.environment.id, "writer", ["organizations:write"])
    with client_with(rt, seed, token_for(rt, seed, ["organizations:write"], other.id)) as writer:
        assert writer.post("/api/v1/organizations", json={"display_name": "A"}, headers=KEY).status_code == 201
    second = api.post("/api/v1/organizations", json={"display_name": "B"}, headers=KEY)
    assert second.status_code == 201 and second.json()["organization"]["display_name"] == "B"


def test_a_key_expires_after_24_hours(api: TestClient, rt: Runtime) -> None:
    assert api.post("/api/v1/organizations", json={"display_name": "Acme"}, headers=KEY).status_code == 201
    with rt.engine.connect() as conn:
        row = conn.execute(select(idempotency_keys)).one()
    assert row.expire_time - row.create_time == timedelta(hours=24)
    assert api.post("/api/v1/organizations", json={"display_name": "Other"}, headers=KEY).status_code == 422
    with rt.engine.begin() as conn:  # a day later (moved in the table: access tokens check the real time)
        conn.execute(update(idempotency_keys).values(expire_time=datetime.now(UTC) - timedelta(seconds=1)))
    fresh = api.post("/api/v1/organizations", json={"display_name": "Other"}, headers=KEY)
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve"])
def test_a_malformed_key_is_refused(api: TestClient, rt: Runtime, key: str) -> None:
    before = organization_count(rt)
    response = api.post(
        "/api/v1/organizations",
        json={"display_name": "Acme"},
        headers={"Idempotency-Key": key.encode()},
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["validation_error_info"]["field_violations"][0]["field"] == "Idempotency-Key"
    assert organization_count(rt) == before


def test_every_post_honours_the_key(api: TestClient) -> None:
    org_id = api.post("/api/v1/organizations", json={"display_name": "Acme"}).json()["organization"]["id"]
    calls = [
        (f"/api/v1/organizations/{org_id}/domains", {"domain": "acme.test"}),
        (f"/api/v1/organizations/{org_id}/connections", {"type": "SAML", "provider": "OKTA"}),
        ("/api/v1/environment/redirect-uris", {"uri": "http://localhost:4000/cb"}),
    ]
    for number, (path, body) in enumerate(calls):
        headers = {"Idempotency-Key": f"key-{number}"}
        first = api.post(path, json=body, headers=headers)
        again = api.post(path, json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert (again.status_code, again.json()) == (201, first.json())


def _raw_rows(rt: Runtime) -> str:
    """Every stored column of every idempotency row, as the database holds it (bytes shown as text too)."""
    with rt.engine.connect() as conn:
        rows = conn.execute(select(idempotency_keys)).all()
    shown = []
    for row in rows:
        for value in row:
            shown.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return "\n".join(shown)


def test_a_new_client_secret_is_remembered_sealed(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    path = f"/api/v1/clients/{seed.client_id}/secrets"
    first = api.post(path, headers=KEY)
    assert first.status_code == 201, first.text
    plain = first.json()["plain_secret"]
    raw = _raw_rows(rt)
    assert seed.client_id in raw  # the row is there, and read as the database stores it
    assert plain not in raw and plain.split("_", 1)[1] not in raw
    again = api.post(path, headers=KEY)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["plain_secret"] == plain  # the retry still gets the secret it was never shown


def test_a_new_webhook_secret_is_remembered_sealed(api: TestClient, rt: Runtime) -> None:
    rt.settings = replace(rt.settings, allow_private_fetch=True)
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["sso.login_failed"]}
    first = api.post("/api/v1/webhooks", json=body, headers=KEY)
    assert first.status_code == 201, first.text
    secret = first.json()["secret"]
    assert secret.startswith("whsec_") and secret not in _raw_rows(rt) and secret[6:] not in _raw_rows(rt)
    again = api.post("/api/v1/webhooks", json=body, headers=KEY)
    assert again.json()["secret"] == secret and again.headers["idempotent-replayed"] == "true"


def test_a_sealed_answer_moved_to_another_key_is_refused(api: TestClient, rt: Runtime) -> None:
    """The answer is bound to its row: copied under another key, it is not replayed there."""
    body = {"display_name": "Acme"}
    assert api.post("/api/v1/organizations", json=body, headers=KEY).status_code == 201
    assert api.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "other-key"}).status_code == 201
    with rt.engine.begin() as conn:
        rows = {r.key: r for r in conn.execute(select(idempotency_keys))}
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == "other-key")
            .values(sealed_response=rows[KEY["Idempotency-Key"]].sealed_response)
        )
    moved = api.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "other-key"})
    assert moved.status_code == 409 and "can no longer be opened" in moved.json()["message"]
