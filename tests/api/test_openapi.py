"""/api/v1/openapi.json matches the implementation: schemathesis generates requests from the document (bodies
included) and checks every answer — no 5xx, only documented statuses and content types, bodies that match their
schemas, and input the document calls invalid is refused."""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from entryway.api.rate_limit import CACHE_KEY, RateLimiter
from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.api.conftest import token_for

# A few per call keeps the suite quick; ENTRYWAY_SCHEMATHESIS_EXAMPLES=200 explores further.
EXAMPLES = int(os.environ.get("ENTRYWAY_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def test_every_call_conforms_to_the_document(rt: Runtime, seed: DevSeed) -> None:
    rt.caches[CACHE_KEY] = RateLimiter(per_minute=10**6, burst=10**6)  # hundreds of calls in a few seconds
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(rt))
    schema.config.update(base_url=seed.environment.url)  # environments are chosen by the Host header
    bearer = {"Authorization": f"Bearer {token_for(rt, seed, ['*'])}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=bearer, checks=CHECKS)

        conforms()


def test_the_document_declares_bodies_errors_and_idempotency(rt: Runtime, seed: DevSeed) -> None:
    with TestClient(create_app(rt), base_url=seed.environment.url) as http:
        doc = http.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    create = doc["paths"]["/api/v1/organizations"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["display_name"] and body["additionalProperties"] is False
    assert create["requestBody"]["required"] is True
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    assert "422" in create["responses"] and "Retry-After" in create["responses"]["429"]["headers"]
    connection = doc["paths"]["/api/v1/organizations/{org_id}/connections"]["post"]["requestBody"]
    saml = connection["content"]["application/json"]["schema"]["properties"]["saml_config"]
    assert "$ref" not in str(saml) and "idp_entity_id" in str(saml)
    patch_env = doc["paths"]["/api/v1/environment"]["patch"]["requestBody"]
    assert patch_env["required"] is False
    listing = doc["paths"]["/api/v1/organizations"]["get"]
    assert "422" not in listing["responses"] and "requestBody" not in listing
    assert "Idempotency-Key" not in str(listing)
    every = [op for ops in doc["paths"].values() for op in ops.values()]
    assert all("HTTPValidationError" not in str(op) for op in every)
    assert "not described yet" not in str(doc["paths"]), "add the call's answer to api/openapi.py SUCCESS"
