"""Webhook endpoints, their deliveries and attempts, and events, as the management API returns them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from entryway_sdk.models import _time


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    description: str | None
    event_types: list[str]
    status: str  # ENABLED | DISABLED
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expire_time: datetime | None  # while a rotated-out secret still signs
    create_time: datetime | None
    update_time: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookEndpoint:
        return cls(
            id=data["id"],
            url=data.get("url", ""),
            description=data.get("description"),
            event_types=list(data.get("event_types") or []),
            status=data.get("status", ""),
            disabled_reason=data.get("disabled_reason"),
            failing_since=_time(data.get("failing_since")),
            previous_secret_expire_time=_time(data.get("previous_secret_expire_time")),
            create_time=_time(data.get("create_time")),
            update_time=_time(data.get("update_time")),
        )


@dataclass(frozen=True)
class WebhookWithSecret:
    """An endpoint just created or rotated, with its `whsec_` secret: the only time the secret is shown."""

    webhook: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class WebhookAttempt:
    attempt: int
    trigger: str  # scheduled | replay | test
    outcome: str  # SUCCESS | FAILURE
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    latency_ms: int
    create_time: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookAttempt:
        return cls(
            attempt=int(data.get("attempt") or 0),
            trigger=data.get("trigger", ""),
            outcome=data.get("outcome", ""),
            status_code=data.get("status_code"),
            error=data.get("error"),
            response_excerpt=data.get("response_excerpt"),
            latency_ms=int(data.get("latency_ms") or 0),
            create_time=_time(data.get("create_time")),
        )


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str  # PENDING | SUCCEEDED | FAILED
    attempt_count: int
    next_attempt_time: datetime | None
    last_status_code: int | None
    last_error: str | None
    create_time: datetime | None
    update_time: datetime | None
    attempts: list[WebhookAttempt]  # only when fetched one by one (get, replay, test)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookDelivery:
        return cls(
            id=data["id"],
            endpoint_id=data.get("endpoint_id", ""),
            event_id=data.get("event_id", ""),
            event_type=data.get("event_type", ""),
            status=data.get("status", ""),
            attempt_count=int(data.get("attempt_count") or 0),
            next_attempt_time=_time(data.get("next_attempt_time")),
            last_status_code=data.get("last_status_code"),
            last_error=data.get("last_error"),
            create_time=_time(data.get("create_time")),
            update_time=_time(data.get("update_time")),
            attempts=[WebhookAttempt.from_json(a) for a in data.get("attempts") or []],
        )


@dataclass(frozen=True)
class Event:
    """One event: the body a webhook delivery carries (CONTRACT §6)."""

    id: str
    type: str
    object: str
    environment_id: str
    organization_id: str | None
    occurred_at: datetime | None
    data: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        return cls(
            id=data["id"],
            type=data.get("type", ""),
            object=data.get("object", ""),
            environment_id=data.get("environment_id", ""),
            organization_id=data.get("organization_id"),
            occurred_at=_time(data.get("occurred_at")),
            data=dict(data.get("data") or {}),
        )
