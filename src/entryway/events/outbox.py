"""The event outbox: `emit_event` records an event in the caller's transaction, with one delivery per endpoint.

Usage, from any service that changes something (pass the connection of the transaction making the change):

    from entryway.events.outbox import emit_event

    with rt.engine.begin() as conn:
        ...the change...
        emit_event(conn, "organization.created", environment_id=env_id, organization_id=org.id,
                   data=payloads.organization(org), occurred_at=rt.clock.now())

- The event row and its webhook deliveries are inserted on `conn`, so they commit with the change or not at all:
  a rolled-back change sends nothing, and a process that dies after the commit loses nothing (the delivery
  worker, `entryway.events.delivery`, finds the pending deliveries in the database).
- `event_type` must be one of `entryway.events.types.EVENT_TYPES` (a ValueError otherwise: a programming error).
- `data` is a JSON object describing the resource (see `entryway.events.payloads`); never secrets, tokens or
  raw assertions. It is sent as the envelope's `data`, beside `spec_version`, `id`, `type`, `object`,
  `environment_id`, `organization_id` and `occurred_at` (CONTRACT §6).
- Deliveries are created for each ENABLED endpoint of the environment subscribed to the type at emit time. A
  caller on a hot path (the auth log) passes the configuration cache: the subscriber list then comes from it,
  invalidated like any configuration (webhook_endpoints has generation triggers, migration 0014), so an
  endpoint added, disabled or resubscribed counts at once on this instance and within the cache's check
  interval (1 s) on the others.
- Returns the event ID (`evt_…`), which is also the `webhook-id` of every delivery of the event.

Reading: `list_events` and `get_event` (newest first) for the API and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from entryway.events.types import EVENT_TYPES, TEST_EVENT_TYPE, object_of
from entryway.ids import new_id
from entryway.model.timestamps import rfc3339
from entryway.store.config_cache import ConfigCache
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import events, webhook_deliveries, webhook_endpoints
from entryway.store.write_batch import Writes, insert_row

SPEC_VERSION = "1"

# Built once and run without SQLAlchemy's per-execution work (store/hot_statements.py): emit_event runs inside
# login steps.
_INSERT_EVENT = HotStatement(insert(events))
_INSERT_DELIVERY = HotStatement(insert(webhook_deliveries))  # one per subscribed endpoint, with each event
_SUBSCRIBED = select(webhook_endpoints.c.id, webhook_endpoints.c.event_types).where(
    webhook_endpoints.c.environment_id == bindparam("environment_id"), webhook_endpoints.c.status == "ENABLED"
)


@dataclass(frozen=True)
class Event:
    id: str
    environment_id: str
    organization_id: str | None
    type: str
    object: str
    data: dict[str, Any]
    occurred_at: datetime

    def envelope(self) -> dict[str, Any]:
        """The JSON body a receiver gets (CONTRACT §6)."""
        return {
            "spec_version": SPEC_VERSION,
            "id": self.id,
            "type": self.type,
            "object": self.object,
            "environment_id": self.environment_id,
            "organization_id": self.organization_id,
            "occurred_at": rfc3339(self.occurred_at),
            "data": self.data,
        }


def event_from_row(row: Any) -> Event:
    return event_from_mapping(row._mapping)


def event_from_mapping(r: Any) -> Event:
    return Event(
        r["id"], r["environment_id"], r["organization_id"], r["type"], r["object"], r["data"], r["occurred_at"]
    )


def insert_event(
    conn: Writes,
    event_type: str,
    *,
    environment_id: str,
    data: dict[str, Any],
    organization_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Store the event only (no deliveries); emit_event and the test-event call build on it."""
    if event_type not in EVENT_TYPES and event_type != TEST_EVENT_TYPE:
        raise ValueError(f"{event_type!r} is not an Entryway event type")
    event = Event(
        new_id("evt"),
        environment_id,
        organization_id,
        event_type,
        object_of(event_type),
        data,
        occurred_at or datetime.now(UTC),
    )
    insert_row(
        conn,
        _INSERT_EVENT,
        dict(
            id=event.id,
            environment_id=environment_id,
            organization_id=organization_id,
            type=event_type,
            object=event.object,
            data=data,
            occurred_at=event.occurred_at,
        ),
    )
    return event


def insert_delivery(conn: Writes, event: Event, endpoint_id: str, now: datetime) -> str:
    delivery_id = new_id("dlv")
    insert_row(
        conn,
        _INSERT_DELIVERY,
        dict(
            id=delivery_id,
            environment_id=event.environment_id,
            endpoint_id=endpoint_id,
            event_id=event.id,
            status="PENDING",
            attempt_count=0,
            next_attempt_time=now,
            create_time=now,
            update_time=now,
        ),
    )
    return delivery_id


def _subscribers(conn: Connection, environment_id: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The environment's ENABLED endpoints, each with the event types it subscribes to (immutable: cacheable)."""
    rows = conn.execute(_SUBSCRIBED, {"environment_id": environment_id}).all()
    return tuple((endpoint_id, frozenset(types or ())) for endpoint_id, types in rows)


def emit_event(
    conn: Writes,
    event_type: str,
    *,
    environment_id: str,
    data: dict[str, Any],
    organization_id: str | None = None,
    occurred_at: datetime | None = None,
    config: ConfigCache | None = None,
) -> str:
    event = insert_event(
        conn,
        event_type,
        environment_id=environment_id,
        data=data,
        organization_id=organization_id,
        occurred_at=occurred_at,
    )
    if config is None:
        if not isinstance(conn, Connection):
            raise TypeError("emit_event into a write batch needs the configuration cache to find the subscribers")
        subscribed = _subscribers(conn, environment_id)
    else:
        # Read on a connection of its own, never this transaction's: an uncommitted endpoint must not be cached.
        subscribed = config.fetch(("webhook_subscribers", environment_id), _subscribers, environment_id)
    for endpoint_id, types in subscribed:
        if event_type in types:
            insert_delivery(conn, event, endpoint_id, event.occurred_at)
    return event.id


def get_event(conn: Connection, environment_id: str, event_id: str) -> Event | None:
    row = conn.execute(select(events).where(events.c.id == event_id, events.c.environment_id == environment_id)).first()
    return event_from_row(row) if row is not None else None


def list_events(
    conn: Connection,
    environment_id: str,
    *,
    event_type: str | None = None,
    organization_id: str | None = None,
    before_id: str | None = None,
    limit: int = 50,
) -> list[Event]:
    """Newest first; `before_id` continues a previous page."""
    query = select(events).where(events.c.environment_id == environment_id)
    if event_type is not None:
        query = query.where(events.c.type == event_type)
    if organization_id is not None:
        query = query.where(events.c.organization_id == organization_id)
    if before_id is not None:
        query = query.where(events.c.id < before_id)
    return [event_from_row(r) for r in conn.execute(query.order_by(events.c.id.desc()).limit(limit))]


def count_events(
    conn: Connection, environment_id: str, *, event_type: str | None = None, organization_id: str | None = None
) -> int:
    query = select(func.count()).select_from(events).where(events.c.environment_id == environment_id)
    if event_type is not None:
        query = query.where(events.c.type == event_type)
    if organization_id is not None:
        query = query.where(events.c.organization_id == organization_id)
    return int(conn.execute(query).scalar_one())
