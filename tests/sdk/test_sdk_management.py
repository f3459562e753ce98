"""The SDK's management resources against a real server: typed models, pagination, and API errors mirrored."""

from __future__ import annotations

import asyncio
import time

import pytest
from entryway_sdk import (
    AsyncEntrywayClient,
    ConflictError,
    EntrywayClient,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryPolicy,
)

from entryway.api.rate_limit import CACHE_KEY, RateLimiter
from entryway.runtime import Runtime
from entryway.services import credentials
from tests.sdk.conftest import Live

pytestmark = pytest.mark.e2e


def test_organizations_round_trip(live: Live) -> None:
    orgs = live.client.organizations
    created = orgs.create("Acme Corp", external_id="acme", metadata={"plan": "gold"}, slug="acme")
    assert created.id.startswith("org_") and created.metadata == {"plan": "gold"}
    assert orgs.get(created.id) == created
    assert orgs.get_by_external_id("acme").id == created.id
    renamed = orgs.update(created.id, display_name="Acme Inc")
    assert renamed.display_name == "Acme Inc" and renamed.external_id == "acme"
    orgs.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        orgs.get(created.id)
    assert caught.value.error_code == "NOT_FOUND"


def test_list_all_pages_through_every_organization(live: Live) -> None:
    made = {live.client.organizations.create(f"Org {i}").id for i in range(5)}
    page = live.client.organizations.list(page_size=2)
    assert len(page.items) == 2 and page.next_page_token and page.total_size == 6  # with the Test Organization
    listed = [org.id for org in live.client.organizations.list_all(page_size=2)]
    assert len(listed) == len(set(listed)) == 6
    assert made <= set(listed) and live.seed.organization_id in listed


def test_duplicates_and_invalid_fields_raise_typed_errors(live: Live) -> None:
    live.client.organizations.create("One", external_id="dup")
    with pytest.raises(ConflictError):
        live.client.organizations.create("Two", external_id="dup")
    with pytest.raises(InvalidArgumentError) as caught:
        live.client.organizations.create("Three", slug="Not A Slug!")
    assert [v.field for v in caught.value.field_violations] == ["slug"]
    with pytest.raises(InvalidArgumentError):
        live.client.organizations.list(page_token="bm90LWEtdG9rZW4")


def test_domains_and_connections(live: Live) -> None:
    org = live.client.organizations.create("Globex")
    domain = live.client.domains.create(org.id, "globex.test")
    assert domain.verification_status != "VERIFIED"
    assert domain.verification_record["type"] == "TXT"
    assert [d.id for d in live.client.domains.list_all(org.id)] == [domain.id]
    with pytest.raises(ConflictError):
        live.client.domains.create(org.id, "example.com")  # the Test Organization's
    connection = live.client.connections.create(
        org.id, type="SAML", provider="OKTA", saml_config={"idp_entity_id": "http://www.okta.com/exk1"}
    )
    assert connection.type == "SAML" and not connection.enabled
    assert "idp_sso_url" in " ".join(connection.missing_configuration)
    with pytest.raises(InvalidArgumentError):
        live.client.connections.enable(org.id, connection.id)  # incomplete
    assert [c.id for c in live.client.connections.list_all(org.id)] == [connection.id]
    found = live.client.connections.list(domain="example.com")
    assert [c.id for c in found.items] == [live.seed.connection_id]
    live.client.domains.delete(org.id, domain.id)
    live.client.connections.delete(org.id, connection.id)
    assert live.client.connections.list(org.id).items == []


def test_a_limited_api_client_is_refused_with_permission_denied(live: Live, rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        client = credentials.create_api_client(rt, conn, live.seed.environment.id, "reader", ["organizations:read"])
        secret, _ = credentials.create_secret(rt, conn, client, created_by="test")
    with EntrywayClient(live.base, client.id, secret) as reader:
        assert reader.organizations.list().total_size == 1
        with pytest.raises(PermissionDeniedError):
            reader.organizations.create("Nope")


def test_the_async_client_manages(live: Live) -> None:
    async def scenario() -> list[str]:
        async with AsyncEntrywayClient(live.base, live.seed.client_id, live.secret) as client:
            org = await client.organizations.create("Initech")
            await client.domains.create(org.id, "initech.test")
            return [d.domain async for d in client.domains.list_all(org.id)]

    assert asyncio.run(scenario()) == ["initech.test"]


def test_the_sdk_waits_out_a_429_and_gives_up_when_told(live: Live, rt: Runtime) -> None:
    rt.caches[CACHE_KEY] = RateLimiter(per_minute=60, burst=1)
    live.client.organizations.list()
    started = time.monotonic()
    assert live.client.organizations.list().total_size == 1  # the second call was answered 429, then retried
    assert time.monotonic() - started >= 0.9  # after Retry-After: 1
    impatient = EntrywayClient(live.base, live.seed.client_id, live.secret, retry=RetryPolicy(max_retries=0))
    with impatient, pytest.raises(RateLimitedError) as caught:
        impatient.organizations.list()
        impatient.organizations.list()
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
