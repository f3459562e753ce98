"""The JSON shape of webhook endpoints, deliveries, attempts and events (API and the CLI's --json).

Never rendered: the endpoint's secret (shown once, beside the endpoint, when created or rotated).
"""

from __future__ import annotations

from typing import Any

from entryway.events.delivery import Attempt, Delivery
from entryway.events.endpoints import Endpoint
from entryway.events.outbox import Event
from entryway.model.timestamps import rfc3339


def endpoint(e: Endpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "event_types": e.event_types,
        "status": e.status,
        "disabled_reason": e.disabled_reason,
        "failing_since": rfc3339(e.failing_since),
        "previous_secret_expire_time": rfc3339(e.previous_secret_expire_time),
        "create_time": rfc3339(e.create_time),
        "update_time": rfc3339(e.update_time),
    }


def attempt(a: Attempt) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "trigger": a.trigger,
        "outcome": a.outcome,
        "status_code": a.status_code,
        "error": a.error,
        "response_excerpt": a.response_excerpt,
        "latency_ms": a.latency_ms,
        "create_time": rfc3339(a.create_time),
    }


def delivery(d: Delivery, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempt_count": d.attempt_count,
        "next_attempt_time": rfc3339(d.next_attempt_time),
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "create_time": rfc3339(d.create_time),
        "update_time": rfc3339(d.update_time),
    }
    if attempts is not None:
        shown["attempts"] = [attempt(a) for a in attempts]
    return shown


def event(e: Event) -> dict[str, Any]:
    return e.envelope()
