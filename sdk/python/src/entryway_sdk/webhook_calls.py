"""The webhook and event calls of the management API (docs/webhooks.md) as `Call` values."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from entryway_sdk import arguments
from entryway_sdk.calls import _paging
from entryway_sdk.errors import ArgumentError, TransportError
from entryway_sdk.models import Page, page_of, unwrap
from entryway_sdk.transport import Call
from entryway_sdk.webhook_models import Event, WebhookDelivery, WebhookEndpoint, WebhookWithSecret

DELIVERY_STATUSES = ("PENDING", "SUCCEEDED", "FAILED")
_UPDATABLE = ("url", "event_types", "description", "status")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _endpoint(body: Any) -> WebhookEndpoint:
    return WebhookEndpoint.from_json(unwrap(body, "webhook"))


def _with_secret(body: Any) -> WebhookWithSecret:
    secret = body.get("secret") if isinstance(body, dict) else None
    if not isinstance(secret, str):
        raise TransportError("Entryway answered without the webhook's secret")
    return WebhookWithSecret(_endpoint(body), secret)


def _delivery(body: Any) -> WebhookDelivery:
    return WebhookDelivery.from_json(unwrap(body, "delivery"))


def _event_types(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise ArgumentError("event_types must be a non-empty list of event type names")
    for item in value:
        arguments.text("event_types[]", item)
    return list(value)


def _path(webhook_id: str) -> str:
    arguments.resource_id("webhook_id", webhook_id, "wh_")
    return f"/webhooks/{_seg(webhook_id)}"


def create_webhook(url: str, event_types: list[str], description: str | None = None) -> Call[WebhookWithSecret]:
    body: dict[str, Any] = {"url": arguments.url("url", url), "event_types": _event_types(event_types)}
    if description is not None:
        body["description"] = arguments.text("description", description)
    return Call("POST", "/webhooks", _with_secret, body=body)


def get_webhook(webhook_id: str) -> Call[WebhookEndpoint]:
    return Call("GET", _path(webhook_id), _endpoint)


def update_webhook(webhook_id: str, **fields: Any) -> Call[WebhookEndpoint]:
    unknown = set(fields) - set(_UPDATABLE)
    if unknown or not fields:
        raise ArgumentError(f"give fields to change among: {', '.join(_UPDATABLE)}")
    if "url" in fields:
        arguments.url("url", fields["url"])
    if "event_types" in fields:
        _event_types(fields["event_types"])
    if "status" in fields:
        arguments.one_of("status", fields["status"], ("ENABLED", "DISABLED"))
    return Call("PATCH", _path(webhook_id), _endpoint, body=dict(fields))


def delete_webhook(webhook_id: str) -> Call[None]:
    return Call("DELETE", _path(webhook_id), lambda body: None)


def list_webhooks(page_size: int | None = None, page_token: str | None = None) -> Call[Page[WebhookEndpoint]]:
    return Call(
        "GET",
        "/webhooks",
        lambda body: page_of(body, "webhooks", WebhookEndpoint.from_json),
        params=_paging(page_size, page_token),
    )


def rotate_webhook_secret(webhook_id: str) -> Call[WebhookWithSecret]:
    return Call("POST", _path(webhook_id) + ":rotate_secret", _with_secret)


def test_webhook(webhook_id: str) -> Call[WebhookDelivery]:
    return Call("POST", _path(webhook_id) + ":test", _delivery)


def list_deliveries(
    webhook_id: str, status: str | None = None, page_size: int | None = None, page_token: str | None = None
) -> Call[Page[WebhookDelivery]]:
    params = _paging(page_size, page_token)
    if status is not None:
        params["status"] = arguments.one_of("status", status, DELIVERY_STATUSES)
    return Call(
        "GET",
        _path(webhook_id) + "/deliveries",
        lambda body: page_of(body, "deliveries", WebhookDelivery.from_json),
        params=params,
    )


def get_delivery(webhook_id: str, delivery_id: str) -> Call[WebhookDelivery]:
    arguments.resource_id("delivery_id", delivery_id, "dlv_")
    return Call("GET", f"{_path(webhook_id)}/deliveries/{_seg(delivery_id)}", _delivery)


def replay_delivery(webhook_id: str, delivery_id: str) -> Call[WebhookDelivery]:
    arguments.resource_id("delivery_id", delivery_id, "dlv_")
    return Call("POST", f"{_path(webhook_id)}/deliveries/{_seg(delivery_id)}:replay", _delivery)


def list_events(
    type: str | None = None,
    organization_id: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Call[Page[Event]]:
    params = _paging(page_size, page_token)
    if type is not None:
        params["type"] = arguments.text("type", type)
    if organization_id is not None:
        params["organization_id"] = arguments.resource_id("organization_id", organization_id, "org_")
    return Call("GET", "/events", lambda body: page_of(body, "events", Event.from_json), params=params)


def get_event(event_id: str) -> Call[Event]:
    arguments.resource_id("event_id", event_id, "evt_")
    return Call("GET", f"/events/{_seg(event_id)}", lambda body: Event.from_json(unwrap(body, "event")))
