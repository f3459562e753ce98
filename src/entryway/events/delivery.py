"""Webhook delivery: claim due deliveries under a lease, sign and POST them, log every attempt, retry with backoff.

Claiming is one UPDATE that stamps a fresh claim token on up to N due rows whose lease is free or expired
(PostgreSQL picks them with FOR UPDATE SKIP LOCKED; SQLite serializes writers), so any number of workers on
any number of instances never send the same delivery at once. A worker that dies mid-send leaves its lease to
expire (ENTRYWAY_WEBHOOK_LEASE_SECONDS), and the delivery is then claimed again: delivery is at least once,
and receivers deduplicate on `webhook-id` (the event ID, the same for every attempt and replay).

Any 2xx is delivered. Anything else (another status, a redirect, a timeout, a refused connection, a private
address) is a failed attempt, retried after an exponentially growing, jittered delay until RETRY_WINDOW after
the event; then the delivery is FAILED (it can still be replayed). An endpoint whose attempts have all failed
for ENTRYWAY_WEBHOOK_DISABLE_AFTER_DAYS is disabled; re-enabling it resumes its pending deliveries.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, and_, exists, func, insert, or_, select, update

from entryway import __version__
from entryway.events import signing
from entryway.events.endpoints import get_endpoint, signing_secrets
from entryway.events.outbox import Event, event_from_mapping, insert_delivery, insert_event
from entryway.events.types import TEST_EVENT_TYPE
from entryway.model.errors import ApiError, not_found
from entryway.outbound import OutboundRefused, pinned_client, policy_for
from entryway.runtime import Runtime
from entryway.store.config_cache import NOT_CONFIG
from entryway.store.tables import events, webhook_attempts, webhook_deliveries, webhook_endpoints

RETRY_WINDOW = timedelta(hours=26)
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 6 * 3600.0
JITTER = 0.25  # each delay is drawn from ±25 % of the nominal one, so failed bursts do not retry in lockstep
EXCERPT_BYTES = 1024
USER_AGENT = f"Entryway-Webhooks/{__version__}"

D = webhook_deliveries
E = webhook_endpoints


def worker_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}"


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    """The delay after failed attempt number `attempt` (1-based): 5 s, 10 s, 20 s, … capped at 6 h, ±25 %."""
    nominal = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempt - 1))
    return nominal * (rng or random).uniform(1 - JITTER, 1 + JITTER)  # jitter, not a secret


@dataclass(frozen=True)
class Claim:
    """A delivery reserved to one worker until `lease_expire_time`."""

    token: str
    delivery_id: str
    endpoint_id: str
    url: str
    signing_secrets: list[str]
    event: Event
    attempt: int  # the number this attempt will have (1 = first)
    create_time: datetime


@dataclass(frozen=True)
class AttemptResult:
    success: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    latency_ms: int


# --- claiming --------------------------------------------------------------------------------------------


def _lease_free(now: datetime) -> Any:
    return or_(D.c.lease_expire_time.is_(None), D.c.lease_expire_time <= now)


def _new_token() -> str:
    return f"{worker_name()}:{secrets.token_hex(6)}"


def _lease(rt: Runtime) -> timedelta:
    # Never shorter than a send can take, or a slow receiver would see the same delivery from two workers.
    return timedelta(seconds=max(rt.settings.webhook_lease_seconds, rt.settings.webhook_timeout_seconds + 5))


def claim_due(rt: Runtime, limit: int = 16) -> list[Claim]:
    now = rt.clock.now()
    token = _new_token()
    with rt.engine.begin() as conn:
        due = (
            select(D.c.id)
            .where(
                D.c.status == "PENDING",
                D.c.next_attempt_time <= now,
                _lease_free(now),
                exists().where(E.c.id == D.c.endpoint_id, E.c.status == "ENABLED"),
            )
            .order_by(D.c.next_attempt_time)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            # Lock the chosen rows first (skipping rows another worker holds), then stamp exactly those: a LIMIT
            # inside an UPDATE's IN (…) is not guaranteed to be evaluated once.
            chosen: Any = list(conn.scalars(due.with_for_update(skip_locked=True)))
        else:
            chosen = due.scalar_subquery()  # SQLite: one writer at a time, so one statement is atomic
        # The lease condition is repeated: a row claimed meanwhile fails it when the UPDATE re-checks the row.
        conn.execute(
            update(D)
            .where(D.c.id.in_(chosen), D.c.status == "PENDING", _lease_free(now))
            .values(lease_owner=token, lease_expire_time=now + _lease(rt))
        )
        return _claims(rt, conn, token, now)


def _claims(rt: Runtime, conn: Connection, token: str, now: datetime) -> list[Claim]:
    rows = conn.execute(
        select(D, E.c.url, E.c.secret, E.c.previous_secret, E.c.previous_secret_expire_time, events)
        .join(E, E.c.id == D.c.endpoint_id)
        .join(events, events.c.id == D.c.event_id)
        .where(D.c.lease_owner == token)
        .order_by(D.c.next_attempt_time)
    ).all()
    claims = []
    for row in rows:
        r = row._mapping
        secrets_now = signing_secrets(
            rt, r[D.c.endpoint_id], r[E.c.secret], r[E.c.previous_secret], r[E.c.previous_secret_expire_time], now
        )
        event = event_from_mapping({c.name: r[c] for c in events.c})
        claims.append(
            Claim(
                token,
                r[D.c.id],
                r[D.c.endpoint_id],
                r[E.c.url],
                secrets_now,
                event,
                r[D.c.attempt_count] + 1,
                r[D.c.create_time],
            )
        )
    return claims


# --- sending ---------------------------------------------------------------------------------------------


def body_of(event: Event) -> bytes:
    return json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False).encode()


def send(rt: Runtime, claim: Claim) -> AttemptResult:
    """POST the signed event to the endpoint once. Never raises for anything the receiver or network does."""
    timeout = rt.settings.webhook_timeout_seconds
    started = time.perf_counter()

    def result(success: bool, status: int | None, error: str | None, excerpt: str | None = None) -> AttemptResult:
        return AttemptResult(success, status, error, excerpt, int((time.perf_counter() - started) * 1000))

    body = body_of(claim.event)
    # The signature's timestamp is the wall clock at sending: receivers compare it with theirs.
    headers = signing.headers(claim.signing_secrets, claim.event.id, int(time.time()), body)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    try:
        # The connection goes to the very addresses the private-address policy checked (no DNS rebinding).
        with (
            pinned_client(policy_for(rt.settings), httpx.Timeout(timeout)) as client,
            client.stream("POST", claim.url, content=body, headers=headers) as response,
        ):
            excerpt = bytearray()
            for chunk in response.iter_bytes():
                excerpt.extend(chunk)
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            text = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", "replace")
            status = response.status_code
    except OutboundRefused as exc:
        return result(False, None, f"not sent: {exc.message}"[:500])
    except httpx.TimeoutException:
        return result(False, None, f"the receiver did not answer within {timeout:g} s")
    except httpx.ConnectError as exc:
        return result(False, None, f"could not connect: {str(exc)[:200] or type(exc).__name__}")
    except httpx.HTTPError as exc:
        return result(False, None, f"the request failed: {type(exc).__name__}")
    if 200 <= status < 300:
        return result(True, status, None, text)
    if 300 <= status < 400:
        return result(False, status, "redirects are not followed: give the final URL", text)
    return result(False, status, f"the receiver answered HTTP {status}", text)


# --- recording -------------------------------------------------------------------------------------------


def record(rt: Runtime, claim: Claim, outcome: AttemptResult, *, trigger: str = "scheduled", retry: bool = True) -> str:
    """Log the attempt and move the delivery on (SUCCEEDED, a later retry, or FAILED); returns its status."""
    now = rt.clock.now()
    rt.metrics.webhook_attempt("success" if outcome.success else "failure")
    with rt.engine.begin() as conn:
        conn.execute(
            insert(webhook_attempts).values(
                delivery_id=claim.delivery_id,
                attempt=claim.attempt,
                trigger=trigger,
                outcome="SUCCESS" if outcome.success else "FAILURE",
                status_code=outcome.status_code,
                error=outcome.error,
                response_excerpt=outcome.response_excerpt,
                latency_ms=outcome.latency_ms,
                worker=claim.token[:64],
                create_time=now,
            )
        )
        if outcome.success:
            values: dict[str, Any] = {"status": "SUCCEEDED", "next_attempt_time": None}
            conn.execute(
                update(E)
                .where(E.c.id == claim.endpoint_id)
                .values(failing_since=None)
                .execution_options(**{NOT_CONFIG: True})
            )
        elif retry and now - claim.create_time < RETRY_WINDOW:
            delay = timedelta(seconds=backoff_seconds(claim.attempt))
            values = {"status": "PENDING", "next_attempt_time": now + delay}
        else:
            values = {"status": "FAILED", "next_attempt_time": None}
        done = conn.execute(
            update(D)
            .where(D.c.id == claim.delivery_id, D.c.lease_owner == claim.token)
            .values(
                **values,
                attempt_count=claim.attempt,
                lease_owner=None,
                lease_expire_time=None,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                update_time=now,
            )
        )
        if done.rowcount != 1:
            return "LEASE_LOST"  # another worker took it over after our lease ran out; it owns the outcome now
        if not outcome.success:
            _note_failure(rt, conn, claim.endpoint_id, now)
        return str(values["status"])


def _note_failure(rt: Runtime, conn: Connection, endpoint_id: str, now: datetime) -> None:
    conn.execute(
        update(E)
        .where(E.c.id == endpoint_id, E.c.failing_since.is_(None))
        .values(failing_since=now)
        .execution_options(**{NOT_CONFIG: True})
    )
    limit = timedelta(days=rt.settings.webhook_disable_after_days)
    conn.execute(
        update(E)
        .where(E.c.id == endpoint_id, E.c.status == "ENABLED", E.c.failing_since <= now - limit)
        .values(
            status="DISABLED",
            disabled_reason=f"every delivery failed for {rt.settings.webhook_disable_after_days:g} days",
            update_time=now,
        )
    )


def deliver(rt: Runtime, claim: Claim, *, trigger: str = "scheduled", retry: bool = True) -> str:
    return record(rt, claim, send(rt, claim), trigger=trigger, retry=retry)


def deliver_due(rt: Runtime, limit: int = 16) -> int:
    """Claim and send one batch in this thread; returns how many were attempted (for the CLI and tests)."""
    claims = claim_due(rt, limit)
    for claim in claims:
        deliver(rt, claim)
    return len(claims)


# --- manual: replay and test -----------------------------------------------------------------------------


def _claim_one(rt: Runtime, conn: Connection, delivery_id: str, now: datetime) -> Claim:
    token = _new_token()
    done = conn.execute(
        update(D)
        .where(D.c.id == delivery_id, _lease_free(now))
        .values(lease_owner=token, lease_expire_time=now + _lease(rt))
    )
    if done.rowcount != 1:
        raise ApiError(409, "This delivery is being sent right now; look at its attempts in a moment")
    claims = _claims(rt, conn, token, now)
    return claims[0]


def replay(rt: Runtime, env_id: str, endpoint_id: str, delivery_id: str) -> str:
    """Send a delivery again now, whatever its status; returns its new status. Retries follow only within the
    delivery's retry window."""
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        get_endpoint(conn, env_id, endpoint_id)
        found = conn.execute(
            select(D.c.id).where(D.c.id == delivery_id, D.c.endpoint_id == endpoint_id, D.c.environment_id == env_id)
        ).first()
        if found is None:
            raise not_found("delivery", delivery_id)
        claim = _claim_one(rt, conn, delivery_id, now)
    return deliver(rt, claim, trigger="replay")


def send_test(rt: Runtime, env_id: str, endpoint_id: str) -> str:
    """Send a `webhook.test` event to one endpoint now (even a disabled one); returns the delivery ID."""
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        endpoint = get_endpoint(conn, env_id, endpoint_id)
        event = insert_event(
            conn,
            TEST_EVENT_TYPE,
            environment_id=env_id,
            occurred_at=now,
            data={"endpoint_id": endpoint.id, "message": "A test event from Entryway: your endpoint is reachable."},
        )
        delivery_id = insert_delivery(conn, event, endpoint.id, now)
        claim = _claim_one(rt, conn, delivery_id, now)
    deliver(rt, claim, trigger="test", retry=False)
    return delivery_id


# --- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    attempt: int
    trigger: str
    outcome: str
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    latency_ms: int
    create_time: datetime


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_time: datetime | None
    last_status_code: int | None
    last_error: str | None
    create_time: datetime
    update_time: datetime


def _delivery(row: Any) -> Delivery:
    r = row._mapping
    return Delivery(
        r["id"],
        r["endpoint_id"],
        r["event_id"],
        r["type"],
        r["status"],
        r["attempt_count"],
        r["next_attempt_time"],
        r["last_status_code"],
        r["last_error"],
        r["create_time"],
        r["update_time"],
    )


def _delivery_query() -> Any:
    return select(D, events.c.type).join(events, events.c.id == D.c.event_id)


def get_delivery(conn: Connection, env_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
    row = conn.execute(
        _delivery_query().where(D.c.id == delivery_id, D.c.endpoint_id == endpoint_id, D.c.environment_id == env_id)
    ).first()
    if row is None:
        raise not_found("delivery", delivery_id)
    return _delivery(row)


def list_deliveries(
    conn: Connection,
    env_id: str,
    endpoint_id: str,
    *,
    status: str | None = None,
    before_id: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first."""
    query = _delivery_query().where(D.c.endpoint_id == endpoint_id, D.c.environment_id == env_id)
    if status is not None:
        query = query.where(D.c.status == status)
    if before_id is not None:
        query = query.where(D.c.id < before_id)
    return [_delivery(r) for r in conn.execute(query.order_by(D.c.id.desc()).limit(limit))]


def count_deliveries(conn: Connection, env_id: str, endpoint_id: str, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(D).where(D.c.endpoint_id == endpoint_id, D.c.environment_id == env_id)
    if status is not None:
        query = query.where(D.c.status == status)
    return int(conn.execute(query).scalar_one())


def attempts_of(conn: Connection, delivery_id: str) -> list[Attempt]:
    rows = conn.execute(
        select(webhook_attempts).where(webhook_attempts.c.delivery_id == delivery_id).order_by(webhook_attempts.c.id)
    ).all()
    return [
        Attempt(
            r.attempt, r.trigger, r.outcome, r.status_code, r.error, r.response_excerpt, r.latency_ms, r.create_time
        )
        for r in rows
    ]


def backlog(conn: Connection, now: datetime) -> tuple[int, int, float]:
    """(pending deliveries, of which due now, age in seconds of the oldest due one) for /metrics.

    Due means a worker may send it now, as claim_due would take it: those held for a disabled endpoint are
    pending but not due, or the oldest due age would grow, and its alert fire, until someone enabled it."""
    pending = int(conn.execute(select(func.count()).select_from(D).where(D.c.status == "PENDING")).scalar_one())
    enabled = exists().where(E.c.id == D.c.endpoint_id, E.c.status == "ENABLED")
    due_filter = and_(D.c.status == "PENDING", D.c.next_attempt_time <= now, enabled)
    due, oldest = conn.execute(select(func.count(), func.min(D.c.next_attempt_time)).where(due_filter)).one()
    return pending, int(due), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
