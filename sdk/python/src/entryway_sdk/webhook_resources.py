"""`client.webhooks` and `client.events`: webhook endpoints, deliveries, replay, test events, the event log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from entryway_sdk import webhook_calls as calls
from entryway_sdk.models import Page
from entryway_sdk.resources import _async_pages, _pages
from entryway_sdk.transport import AsyncTransport, SyncTransport
from entryway_sdk.webhook_models import Event, WebhookDelivery, WebhookEndpoint, WebhookWithSecret


class Webhooks:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, url: str, event_types: list[str], description: str | None = None) -> WebhookWithSecret:
        """Register an endpoint; keep `.secret` (whsec_…): it is not shown again."""
        return self._t.call(calls.create_webhook(url, event_types, description))

    def get(self, webhook_id: str) -> WebhookEndpoint:
        return self._t.call(calls.get_webhook(webhook_id))

    def update(self, webhook_id: str, **fields: Any) -> WebhookEndpoint:
        """fields: url, event_types, description, status (ENABLED / DISABLED)."""
        return self._t.call(calls.update_webhook(webhook_id, **fields))

    def delete(self, webhook_id: str) -> None:
        self._t.call(calls.delete_webhook(webhook_id))

    def list(self, page_size: int | None = None, page_token: str | None = None) -> Page[WebhookEndpoint]:
        return self._t.call(calls.list_webhooks(page_size, page_token))

    def list_all(self, page_size: int = 100) -> Iterator[WebhookEndpoint]:
        return _pages(self._t, lambda token: calls.list_webhooks(page_size, token))

    def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        """A new secret; the old one keeps signing (a second signature) for 24 hours."""
        return self._t.call(calls.rotate_webhook_secret(webhook_id))

    def send_test(self, webhook_id: str) -> WebhookDelivery:
        """Send a webhook.test event now; the delivery's `attempts` say what the endpoint answered."""
        return self._t.call(calls.test_webhook(webhook_id))

    def list_deliveries(
        self, webhook_id: str, status: str | None = None, page_size: int | None = None, page_token: str | None = None
    ) -> Page[WebhookDelivery]:
        return self._t.call(calls.list_deliveries(webhook_id, status, page_size, page_token))

    def get_delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        return self._t.call(calls.get_delivery(webhook_id, delivery_id))

    def replay(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        return self._t.call(calls.replay_delivery(webhook_id, delivery_id))


class Events:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def list(
        self,
        type: str | None = None,
        organization_id: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]:
        return self._t.call(calls.list_events(type, organization_id, page_size, page_token))

    def get(self, event_id: str) -> Event:
        return self._t.call(calls.get_event(event_id))


class AsyncWebhooks:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, url: str, event_types: list[str], description: str | None = None) -> WebhookWithSecret:
        return await self._t.call(calls.create_webhook(url, event_types, description))

    async def get(self, webhook_id: str) -> WebhookEndpoint:
        return await self._t.call(calls.get_webhook(webhook_id))

    async def update(self, webhook_id: str, **fields: Any) -> WebhookEndpoint:
        return await self._t.call(calls.update_webhook(webhook_id, **fields))

    async def delete(self, webhook_id: str) -> None:
        await self._t.call(calls.delete_webhook(webhook_id))

    async def list(self, page_size: int | None = None, page_token: str | None = None) -> Page[WebhookEndpoint]:
        return await self._t.call(calls.list_webhooks(page_size, page_token))

    def list_all(self, page_size: int = 100) -> AsyncIterator[WebhookEndpoint]:
        return _async_pages(self._t, lambda token: calls.list_webhooks(page_size, token))

    async def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        return await self._t.call(calls.rotate_webhook_secret(webhook_id))

    async def send_test(self, webhook_id: str) -> WebhookDelivery:
        return await self._t.call(calls.test_webhook(webhook_id))

    async def list_deliveries(
        self, webhook_id: str, status: str | None = None, page_size: int | None = None, page_token: str | None = None
    ) -> Page[WebhookDelivery]:
        return await self._t.call(calls.list_deliveries(webhook_id, status, page_size, page_token))

    async def get_delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        return await self._t.call(calls.get_delivery(webhook_id, delivery_id))

    async def replay(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        return await self._t.call(calls.replay_delivery(webhook_id, delivery_id))


class AsyncEvents:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(
        self,
        type: str | None = None,
        organization_id: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]:
        return await self._t.call(calls.list_events(type, organization_id, page_size, page_token))

    async def get(self, event_id: str) -> Event:
        return await self._t.call(calls.get_event(event_id))
