"""The SDK's portal links resource (sync and async) against a real server."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from entryway_sdk import ArgumentError, AsyncEntrywayClient, NotFoundError, PortalLink

from tests.sdk.conftest import Live

pytestmark = pytest.mark.e2e


def test_create_list_revoke(live: Live) -> None:
    links = live.client.portal_links
    org = live.seed.organization_id
    shared = links.create(org, "SHAREABLE")
    assert isinstance(shared, PortalLink) and shared.link_type == "SHAREABLE"
    assert shared.location and shared.location.startswith(live.base + "/portal/links/")
    assert shared.expire_time is not None and shared.create_time is not None
    embedded = links.create(org)
    assert embedded.link_type == "EMBEDDABLE"
    assert {link.id for link in links.list_all(org, page_size=1)} == {shared.id, embedded.id}
    assert all(link.location is None for link in links.list(org).items)
    with httpx.Client(follow_redirects=False) as browser:
        assert browser.get(shared.location).status_code == 303
    links.revoke(org, shared.id)
    assert [link.id for link in links.list_all(org)] == [embedded.id]
    with httpx.Client() as browser:
        assert "portal_link_revoked" in browser.get(shared.location).text
    with pytest.raises(NotFoundError):
        links.revoke(org, "lnk_unknown")


def test_arguments_are_checked_before_any_call(live: Live) -> None:
    with pytest.raises(ArgumentError):
        live.client.portal_links.create("not-an-org")
    with pytest.raises(ArgumentError):
        live.client.portal_links.create(live.seed.organization_id, "FOREVER")
    with pytest.raises(ArgumentError):
        live.client.portal_links.revoke(live.seed.organization_id, "conn_x")


def test_the_async_client(live: Live) -> None:
    async def scenario() -> list[str]:
        async with AsyncEntrywayClient(live.base, live.seed.client_id, live.secret) as client:
            made = await client.portal_links.create(live.seed.organization_id, "SHAREABLE")
            listed = [link.id async for link in client.portal_links.list_all(live.seed.organization_id)]
            await client.portal_links.revoke(live.seed.organization_id, made.id)
            after = (await client.portal_links.list(live.seed.organization_id)).items
            return [*listed, str(len(after))]

    assert asyncio.run(scenario())[-1] == "0"
