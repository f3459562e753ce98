"""Webhook endpoints (/webhooks), their deliveries (replay, test events) and the event log (/events). CONTRACT §6.

The endpoint's `whsec_` secret is in the answer to POST /webhooks and POST /webhooks/{id}:rotate_secret only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from entryway.api import webhook_views as view
from entryway.api.auth import Caller, require
from entryway.api.bodies import Input, json_body
from entryway.api.pagination import page_request
from entryway.api.transactions import reading, writing
from entryway.events import delivery, endpoints, outbox
from entryway.events.types import EVENT_TYPES
from entryway.model.errors import FieldViolation, invalid, not_found
from entryway.web.requests import runtime

router = APIRouter()
READ = require("webhooks:read")
WRITE = require("webhooks:write")
DELIVERY_STATUSES = ("PENDING", "SUCCEEDED", "FAILED")


class WebhookCreate(Input):
    url: str
    event_types: list[str]
    description: str | None = None


class WebhookUpdate(Input):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    status: str | None = None


@router.get("/webhooks/event_types")
def list_event_types(caller: Caller = Depends(READ)) -> dict[str, Any]:
    return {
        "event_types": [{"type": name, "object": obj, "description": text} for name, (obj, text) in EVENT_TYPES.items()]
    }


@router.post("/webhooks", status_code=201)
def create_webhook(
    request: Request, caller: Caller = Depends(WRITE), body: WebhookCreate = Depends(json_body(WebhookCreate))
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        created, secret = endpoints.create_endpoint(
            rt, conn, caller.environment, url=body.url, event_types=body.event_types, description=body.description
        )
    return {"webhook": view.endpoint(created), "secret": secret}


@router.get("/webhooks")
def list_webhooks(
    request: Request, page_size: str | None = None, page_token: str | None = None, caller: Caller = Depends(READ)
) -> dict[str, Any]:
    page = page_request("webhooks", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        items = endpoints.list_endpoints(conn, env_id, after_id=page.after, limit=page.fetch)
        total = endpoints.count_endpoints(conn, env_id)
    return page.respond("webhooks", items, view.endpoint, total)


# The :action routes come before /{webhook_id}, whose parameter would otherwise swallow them.
@router.post("/webhooks/{webhook_id}:rotate_secret")
def rotate_webhook_secret(request: Request, webhook_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    """A new secret signs from now on; the previous one also signs for 24 hours (two signatures per delivery)."""
    rt = runtime(request)
    with writing(rt) as conn:
        changed, secret = endpoints.rotate_secret(rt, conn, caller.environment.id, webhook_id)
    return {"webhook": view.endpoint(changed), "secret": secret}


@router.post("/webhooks/{webhook_id}:test")
def test_webhook(request: Request, webhook_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    """Send a `webhook.test` event to this endpoint now and answer with the attempt (not retried if it fails)."""
    rt = runtime(request)
    delivery_id = delivery.send_test(rt, caller.environment.id, webhook_id)
    return _delivery_answer(request, caller, webhook_id, delivery_id)


@router.get("/webhooks/{webhook_id}")
def get_webhook(request: Request, webhook_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        found = endpoints.get_endpoint(conn, caller.environment.id, webhook_id)
    return {"webhook": view.endpoint(found)}


@router.patch("/webhooks/{webhook_id}")
def update_webhook(
    request: Request,
    webhook_id: str,
    caller: Caller = Depends(WRITE),
    body: WebhookUpdate = Depends(json_body(WebhookUpdate)),
) -> dict[str, Any]:
    rt = runtime(request)
    with writing(rt) as conn:
        changed = endpoints.update_endpoint(
            rt, conn, caller.environment, webhook_id, body.model_dump(exclude_unset=True)
        )
    return {"webhook": view.endpoint(changed)}


@router.delete("/webhooks/{webhook_id}")
def delete_webhook(request: Request, webhook_id: str, caller: Caller = Depends(WRITE)) -> dict[str, Any]:
    with writing(runtime(request)) as conn:
        endpoints.delete_endpoint(conn, caller.environment.id, webhook_id)
    return {}


@router.get("/webhooks/{webhook_id}/deliveries")
def list_webhook_deliveries(
    request: Request,
    webhook_id: str,
    status: str | None = None,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    """Newest first; `status` is PENDING, SUCCEEDED or FAILED."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise invalid([FieldViolation("status", "must be PENDING, SUCCEEDED or FAILED")])
    page = page_request("deliveries", page_size, page_token)
    env_id = caller.environment.id
    with reading(runtime(request)) as conn:
        endpoints.get_endpoint(conn, env_id, webhook_id)
        items = delivery.list_deliveries(
            conn, env_id, webhook_id, status=status, before_id=page.after, limit=page.fetch
        )
        total = delivery.count_deliveries(conn, env_id, webhook_id, status=status)
    return page.respond("deliveries", items, view.delivery, total)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}:replay")
def replay_webhook_delivery(
    request: Request, webhook_id: str, delivery_id: str, caller: Caller = Depends(WRITE)
) -> dict[str, Any]:
    """Send the delivery again now (same webhook-id), whatever its status, and answer with its attempts."""
    delivery.replay(runtime(request), caller.environment.id, webhook_id, delivery_id)
    return _delivery_answer(request, caller, webhook_id, delivery_id)


@router.get("/webhooks/{webhook_id}/deliveries/{delivery_id}")
def get_webhook_delivery(
    request: Request, webhook_id: str, delivery_id: str, caller: Caller = Depends(READ)
) -> dict[str, Any]:
    """One delivery with every attempt: status, latency, the receiver's answer (first KiB) or the error."""
    return _delivery_answer(request, caller, webhook_id, delivery_id)


def _delivery_answer(request: Request, caller: Caller, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        found = delivery.get_delivery(conn, caller.environment.id, webhook_id, delivery_id)
        attempts = delivery.attempts_of(conn, delivery_id)
    return {"delivery": view.delivery(found, attempts)}


@router.get("/events")
def list_events(
    request: Request,
    type: str | None = None,
    organization_id: str | None = None,
    page_size: str | None = None,
    page_token: str | None = None,
    caller: Caller = Depends(READ),
) -> dict[str, Any]:
    """The environment's events, newest first, as their webhook bodies."""
    if type is not None and type not in EVENT_TYPES:
        raise invalid([FieldViolation("type", f"{type!r} is not an event type (see /webhooks/event_types)")])
    page = page_request("events", page_size, page_token)
    with reading(runtime(request)) as conn:
        items = outbox.list_events(
            conn,
            caller.environment.id,
            event_type=type,
            organization_id=organization_id,
            before_id=page.after,
            limit=page.fetch,
        )
        total = outbox.count_events(conn, caller.environment.id, event_type=type, organization_id=organization_id)
    return page.respond("events", items, view.event, total)


@router.get("/events/{event_id}")
def get_event(request: Request, event_id: str, caller: Caller = Depends(READ)) -> dict[str, Any]:
    with reading(runtime(request)) as conn:
        found = outbox.get_event(conn, caller.environment.id, event_id)
    if found is None:
        raise not_found("event", event_id)
    return {"event": view.event(found)}
