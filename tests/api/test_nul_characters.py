"""U+0000 anywhere in a call (body strings and keys, path and query parameters) is a 400 naming the field, on
SQLite as on PostgreSQL (whose text type cannot store it), and nothing is stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def violated(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    return [v["field"] for v in response.json()["details"][0]["validation_error_info"]["field_violations"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "a\u0000b"}, "display_name"),
        ({"display_name": "ok", "metadata": {"plan": "\u0000"}}, "metadata.plan"),
        ({"display_name": "ok", "metadata": {"k\u0000": "v"}}, "metadata.k\u0000"),
    ],
)
def test_bodies(api: TestClient, body: dict, field: str) -> None:
    assert violated(api.post("/api/v1/organizations", json=body)) == [field]
    assert api.get("/api/v1/organizations").json()["total_size"] == 1  # the Test Organization only


def test_nested_lists_in_bodies(api: TestClient) -> None:
    org_id = api.get("/api/v1/organizations").json()["organizations"][0]["id"]
    body = {"type": "SAML", "provider": "OKTA", "saml_config": {"idp_certificates": ["ok", "bad\u0000"]}}
    assert violated(api.post(f"/api/v1/organizations/{org_id}/connections", json=body)) == [
        "saml_config.idp_certificates[1]"
    ]


def test_path_and_query_parameters(api: TestClient) -> None:
    assert violated(api.get("/api/v1/organizations/org_%00")) == ["org_id"]
    assert violated(api.get("/api/v1/organizations:external/a%00b")) == ["external_id"]
    assert violated(api.get("/api/v1/connections", params={"domain": "a\u0000"})) == ["domain"]
    assert violated(api.get("/api/v1/logs/authentication/requests", params={"email": "\u0000"})) == ["email"]
