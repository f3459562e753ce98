"""Management resources (organizations, domains, connections, portal links) over a sync or async transport.

`list` returns one page; `list_all` follows `next_page_token` to the end. Arguments are checked when the call is
built, which is before anything is sent (for `list_all`, when it is called, not at the first iteration).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from entryway_sdk import calls
from entryway_sdk.models import Connection, Domain, DomainVerification, Organization, Page, PortalLink
from entryway_sdk.transport import AsyncTransport, Call, SyncTransport

T = TypeVar("T")
PageCall = Callable[[str | None], Call[Page[T]]]


def _pages(transport: SyncTransport, make: PageCall[T]) -> Iterator[T]:
    call = make(None)  # checks the arguments now

    def walk() -> Iterator[T]:
        current = call
        while True:
            page = transport.call(current)
            yield from page.items
            if not page.next_page_token:
                return
            current = make(page.next_page_token)

    return walk()


def _async_pages(transport: AsyncTransport, make: PageCall[T]) -> AsyncIterator[T]:
    call = make(None)

    async def walk() -> AsyncIterator[T]:
        current = call
        while True:
            page = await transport.call(current)
            for item in page.items:
                yield item
            if not page.next_page_token:
                return
            current = make(page.next_page_token)

    return walk()


class Organizations:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, display_name: str, **optional: Any) -> Organization:
        """optional: external_id, metadata, slug, logo_url."""
        return self._t.call(calls.create_organization(display_name, **optional))

    def get(self, organization_id: str) -> Organization:
        return self._t.call(calls.get_organization(organization_id))

    def get_by_external_id(self, external_id: str) -> Organization:
        return self._t.call(calls.get_organization_by_external_id(external_id))

    def update(self, organization_id: str, **fields: Any) -> Organization:
        return self._t.call(calls.update_organization(organization_id, **fields))

    def delete(self, organization_id: str) -> None:
        self._t.call(calls.delete_organization(organization_id))

    def list(self, page_size: int | None = None, page_token: str | None = None) -> Page[Organization]:
        return self._t.call(calls.list_organizations(page_size, page_token))

    def list_all(self, page_size: int = 100) -> Iterator[Organization]:
        return _pages(self._t, lambda token: calls.list_organizations(page_size, token))


class Domains:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, organization_id: str, domain: str, domain_type: str = "ORGANIZATION_DOMAIN") -> Domain:
        return self._t.call(calls.create_domain(organization_id, domain, domain_type))

    def get(self, organization_id: str, domain_id: str) -> Domain:
        return self._t.call(calls.get_domain(organization_id, domain_id))

    def delete(self, organization_id: str, domain_id: str) -> None:
        self._t.call(calls.delete_domain(organization_id, domain_id))

    def verify(self, organization_id: str, domain_id: str) -> DomainVerification:
        return self._t.call(calls.verify_domain(organization_id, domain_id))

    def list(self, organization_id: str, page_size: int | None = None, page_token: str | None = None) -> Page[Domain]:
        return self._t.call(calls.list_domains(organization_id, page_size, page_token))

    def list_all(self, organization_id: str, page_size: int = 100) -> Iterator[Domain]:
        return _pages(self._t, lambda token: calls.list_domains(organization_id, page_size, token))


class Connections:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, organization_id: str, **config: Any) -> Connection:
        """config: type, provider, saml_config / oidc_config, attribute_mapping."""
        return self._t.call(calls.create_connection(organization_id, **config))

    def get(self, organization_id: str, connection_id: str) -> Connection:
        return self._t.call(calls.get_connection(organization_id, connection_id))

    def update(self, organization_id: str, connection_id: str, **config: Any) -> Connection:
        return self._t.call(calls.update_connection(organization_id, connection_id, **config))

    def enable(self, organization_id: str, connection_id: str) -> Connection:
        return self._t.call(calls.switch_connection(organization_id, connection_id, True))

    def disable(self, organization_id: str, connection_id: str) -> Connection:
        return self._t.call(calls.switch_connection(organization_id, connection_id, False))

    def delete(self, organization_id: str, connection_id: str) -> None:
        self._t.call(calls.delete_connection(organization_id, connection_id))

    def list(
        self,
        organization_id: str | None = None,
        *,
        domain: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Connection]:
        return self._t.call(calls.list_connections(organization_id, domain, page_size, page_token))

    def list_all(
        self, organization_id: str | None = None, *, domain: str | None = None, page_size: int = 100
    ) -> Iterator[Connection]:
        return _pages(self._t, lambda token: calls.list_connections(organization_id, domain, page_size, token))


class AsyncOrganizations:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, display_name: str, **optional: Any) -> Organization:
        return await self._t.call(calls.create_organization(display_name, **optional))

    async def get(self, organization_id: str) -> Organization:
        return await self._t.call(calls.get_organization(organization_id))

    async def get_by_external_id(self, external_id: str) -> Organization:
        return await self._t.call(calls.get_organization_by_external_id(external_id))

    async def update(self, organization_id: str, **fields: Any) -> Organization:
        return await self._t.call(calls.update_organization(organization_id, **fields))

    async def delete(self, organization_id: str) -> None:
        await self._t.call(calls.delete_organization(organization_id))

    async def list(self, page_size: int | None = None, page_token: str | None = None) -> Page[Organization]:
        return await self._t.call(calls.list_organizations(page_size, page_token))

    def list_all(self, page_size: int = 100) -> AsyncIterator[Organization]:
        return _async_pages(self._t, lambda token: calls.list_organizations(page_size, token))


class AsyncDomains:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, organization_id: str, domain: str, domain_type: str = "ORGANIZATION_DOMAIN") -> Domain:
        return await self._t.call(calls.create_domain(organization_id, domain, domain_type))

    async def get(self, organization_id: str, domain_id: str) -> Domain:
        return await self._t.call(calls.get_domain(organization_id, domain_id))

    async def delete(self, organization_id: str, domain_id: str) -> None:
        await self._t.call(calls.delete_domain(organization_id, domain_id))

    async def verify(self, organization_id: str, domain_id: str) -> DomainVerification:
        return await self._t.call(calls.verify_domain(organization_id, domain_id))

    async def list(
        self, organization_id: str, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Domain]:
        return await self._t.call(calls.list_domains(organization_id, page_size, page_token))

    def list_all(self, organization_id: str, page_size: int = 100) -> AsyncIterator[Domain]:
        return _async_pages(self._t, lambda token: calls.list_domains(organization_id, page_size, token))


class AsyncConnections:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, organization_id: str, **config: Any) -> Connection:
        return await self._t.call(calls.create_connection(organization_id, **config))

    async def get(self, organization_id: str, connection_id: str) -> Connection:
        return await self._t.call(calls.get_connection(organization_id, connection_id))

    async def update(self, organization_id: str, connection_id: str, **config: Any) -> Connection:
        return await self._t.call(calls.update_connection(organization_id, connection_id, **config))

    async def enable(self, organization_id: str, connection_id: str) -> Connection:
        return await self._t.call(calls.switch_connection(organization_id, connection_id, True))

    async def disable(self, organization_id: str, connection_id: str) -> Connection:
        return await self._t.call(calls.switch_connection(organization_id, connection_id, False))

    async def delete(self, organization_id: str, connection_id: str) -> None:
        await self._t.call(calls.delete_connection(organization_id, connection_id))

    async def list(
        self,
        organization_id: str | None = None,
        *,
        domain: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Connection]:
        return await self._t.call(calls.list_connections(organization_id, domain, page_size, page_token))

    def list_all(
        self, organization_id: str | None = None, *, domain: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Connection]:
        return _async_pages(self._t, lambda token: calls.list_connections(organization_id, domain, page_size, token))


class PortalLinks:
    """Admin portal links of an organization: `create` one to email (SHAREABLE) or to frame (EMBEDDABLE)."""

    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, organization_id: str, link_type: str = "EMBEDDABLE") -> PortalLink:
        return self._t.call(calls.create_portal_link(organization_id, link_type))

    def list(
        self, organization_id: str, page_size: int | None = None, page_token: str | None = None
    ) -> Page[PortalLink]:
        """The links that can still open the portal (not expired, used or revoked); `location` is None."""
        return self._t.call(calls.list_portal_links(organization_id, page_size, page_token))

    def list_all(self, organization_id: str, page_size: int = 100) -> Iterator[PortalLink]:
        return _pages(self._t, lambda token: calls.list_portal_links(organization_id, page_size, token))

    def revoke(self, organization_id: str, link_id: str) -> None:
        """Revoke the link and end every portal session it opened."""
        self._t.call(calls.revoke_portal_link(organization_id, link_id))


class AsyncPortalLinks:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, organization_id: str, link_type: str = "EMBEDDABLE") -> PortalLink:
        return await self._t.call(calls.create_portal_link(organization_id, link_type))

    async def list(
        self, organization_id: str, page_size: int | None = None, page_token: str | None = None
    ) -> Page[PortalLink]:
        return await self._t.call(calls.list_portal_links(organization_id, page_size, page_token))

    def list_all(self, organization_id: str, page_size: int = 100) -> AsyncIterator[PortalLink]:
        return _async_pages(self._t, lambda token: calls.list_portal_links(organization_id, page_size, token))

    async def revoke(self, organization_id: str, link_id: str) -> None:
        await self._t.call(calls.revoke_portal_link(organization_id, link_id))
