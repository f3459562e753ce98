"""Webhook endpoints: where an environment's events are sent, which types, and the secret that signs them.

The secret (whsec_…) is shown once, when the endpoint is created or its secret rotated; it is stored sealed
under the master key because signing needs it back. A rotation keeps the previous secret signing beside the
new one for ROTATION_OVERLAP, so receivers can switch without dropping a delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, delete, func, insert, select, update

from entryway.events import signing
from entryway.events.types import EVENT_TYPES
from entryway.ids import new_id
from entryway.model.errors import FieldViolation, conflict, invalid, not_found
from entryway.outbound import OutboundRefused, checked_addresses, policy_for
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.store.tables import webhook_endpoints

MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_ENDPOINTS_PER_ENVIRONMENT = 50
ROTATION_OVERLAP = timedelta(hours=24)
STATUSES = ("ENABLED", "DISABLED")
_UPDATABLE = frozenset({"url", "event_types", "description", "status"})


@dataclass(frozen=True)
class Endpoint:
    id: str
    environment_id: str
    url: str
    description: str | None
    event_types: list[str]
    status: str
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expire_time: datetime | None
    create_time: datetime
    update_time: datetime


def endpoint_from_row(row: Any) -> Endpoint:
    r = row._mapping
    return Endpoint(
        r["id"],
        r["environment_id"],
        r["url"],
        r["description"],
        list(r["event_types"] or []),
        r["status"],
        r["disabled_reason"],
        r["failing_since"],
        r["previous_secret_expire_time"],
        r["create_time"],
        r["update_time"],
    )


def _context(endpoint_id: str) -> str:
    return f"webhook_secret:{endpoint_id}"


def signing_secrets(
    rt: Runtime,
    endpoint_id: str,
    sealed: bytes,
    previous: bytes | None,
    previous_expire: datetime | None,
    now: datetime,
) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during a rotation."""
    found = [rt.sealer.open(sealed, context=_context(endpoint_id)).decode()]
    if previous is not None and previous_expire is not None and previous_expire > now:
        found.append(rt.sealer.open(previous, context=_context(endpoint_id)).decode())
    return found


# --- validation ------------------------------------------------------------------------------------------


def normalize_url(rt: Runtime, env: Environment, value: Any) -> tuple[str, list[str]]:
    """The URL with scheme and host lower-cased (so duplicates are found), and every problem it has."""
    if not isinstance(value, str) or not value.strip():
        return "", ["a URL is required"]
    url = value.strip()
    if len(url) > MAX_URL:
        return url, [f"at most {MAX_URL} characters"]
    if any(ch.isspace() for ch in url):
        return url, ["must not contain whitespace"]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url, ["is not a valid URL"]
    allow_http = env.is_development or rt.settings.allow_private_fetch
    if parts.scheme.lower() not in (("https", "http") if allow_http else ("https",)) or not parts.hostname:
        wanted = "an absolute http(s) URL" if allow_http else "an absolute https URL (http only in development)"
        return url, [f"must be {wanted}"]
    if parts.username or parts.password:
        return url, ["must not contain user information (put credentials in the receiver, not the URL)"]
    if parts.fragment:
        return url, ["must not contain a #fragment"]
    netloc = parts.hostname.lower() if ":" not in parts.hostname else f"[{parts.hostname.lower()}]"
    if port is not None:
        netloc += f":{port}"
    normalized = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    try:
        checked_addresses(
            parts.hostname, port or (443 if parts.scheme.lower() == "https" else 80), policy_for(rt.settings)
        )
    except OutboundRefused as exc:
        return normalized, [exc.message]
    return normalized, []


def check_event_types(value: Any) -> tuple[list[str], list[str]]:
    if not isinstance(value, list) or not value:
        return [], ["a non-empty list of event types (see GET /api/v1/webhooks/event_types)"]
    problems = [
        f"{item!r} is not an event type" for item in value if not isinstance(item, str) or item not in EVENT_TYPES
    ]
    wanted = [t for t in EVENT_TYPES if t in value]  # catalogue order, each once
    return wanted, problems


def _check_description(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return ["must be a string"]
    return [f"at most {MAX_DESCRIPTION} characters"] if len(value) > MAX_DESCRIPTION else []


def _check_unique(conn: Connection, env_id: str, url: str, own_id: str | None) -> None:
    query = select(webhook_endpoints.c.id).where(
        webhook_endpoints.c.environment_id == env_id, webhook_endpoints.c.url == url
    )
    if own_id is not None:
        query = query.where(webhook_endpoints.c.id != own_id)
    existing = conn.execute(query).scalar()
    if existing is not None:
        raise conflict(f"the webhook endpoint {existing} already receives events at {url}", "url")


# --- reading ---------------------------------------------------------------------------------------------


def find_endpoint(conn: Connection, env_id: str, endpoint_id: str) -> Endpoint | None:
    row = conn.execute(
        select(webhook_endpoints).where(
            webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.environment_id == env_id
        )
    ).first()
    return endpoint_from_row(row) if row is not None else None


def get_endpoint(conn: Connection, env_id: str, endpoint_id: str) -> Endpoint:
    found = find_endpoint(conn, env_id, endpoint_id)
    if found is None:
        raise not_found("webhook endpoint", endpoint_id)
    return found


def list_endpoints(
    conn: Connection, env_id: str, *, after_id: str | None = None, limit: int | None = None
) -> list[Endpoint]:
    query = select(webhook_endpoints).where(webhook_endpoints.c.environment_id == env_id)
    if after_id is not None:
        query = query.where(webhook_endpoints.c.id > after_id)
    query = query.order_by(webhook_endpoints.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [endpoint_from_row(r) for r in conn.execute(query)]


def count_endpoints(conn: Connection, env_id: str) -> int:
    query = select(func.count()).select_from(webhook_endpoints).where(webhook_endpoints.c.environment_id == env_id)
    return int(conn.execute(query).scalar_one())


# --- writing ---------------------------------------------------------------------------------------------


def create_endpoint(
    rt: Runtime,
    conn: Connection,
    env: Environment,
    *,
    url: Any,
    event_types: Any,
    description: Any = None,
) -> tuple[Endpoint, str]:
    """Register an endpoint; returns it with its secret (the only time the secret is shown)."""
    normalized, url_problems = normalize_url(rt, env, url)
    types, type_problems = check_event_types(event_types)
    violations = [FieldViolation("url", p) for p in url_problems]
    violations += [FieldViolation("event_types", p) for p in type_problems]
    violations += [FieldViolation("description", p) for p in _check_description(description)]
    if violations:
        raise invalid(violations)
    _check_unique(conn, env.id, normalized, None)
    if count_endpoints(conn, env.id) >= MAX_ENDPOINTS_PER_ENVIRONMENT:
        raise invalid(
            [FieldViolation("url", f"an environment has at most {MAX_ENDPOINTS_PER_ENVIRONMENT} webhook endpoints")]
        )
    endpoint_id = new_id("wh")
    secret = signing.new_secret()
    now = rt.clock.now()
    conn.execute(
        insert(webhook_endpoints).values(
            id=endpoint_id,
            environment_id=env.id,
            url=normalized,
            description=description,
            event_types=types,
            secret=rt.sealer.seal(secret.encode(), context=_context(endpoint_id), conn=conn),
            status="ENABLED",
            create_time=now,
            update_time=now,
        )
    )
    return get_endpoint(conn, env.id, endpoint_id), secret


def update_endpoint(
    rt: Runtime, conn: Connection, env: Environment, endpoint_id: str, changes: Mapping[str, Any]
) -> Endpoint:
    """A PATCH of url, event_types, description or status (ENABLED re-enables an endpoint disabled for failing)."""
    current = get_endpoint(conn, env.id, endpoint_id)
    violations = [FieldViolation(name, "unknown field") for name in sorted(set(changes) - _UPDATABLE)]
    values: dict[str, Any] = {}
    if "url" in changes:
        normalized, problems = normalize_url(rt, env, changes["url"])
        violations += [FieldViolation("url", p) for p in problems]
        values["url"] = normalized
    if "event_types" in changes:
        types, problems = check_event_types(changes["event_types"])
        violations += [FieldViolation("event_types", p) for p in problems]
        values["event_types"] = types
    if "description" in changes:
        violations += [FieldViolation("description", p) for p in _check_description(changes["description"])]
        values["description"] = changes["description"]
    if "status" in changes:
        if changes["status"] not in STATUSES:
            violations.append(FieldViolation("status", "must be ENABLED or DISABLED"))
        elif changes["status"] != current.status:
            values["status"] = changes["status"]
            values["failing_since"] = None
            values["disabled_reason"] = None if changes["status"] == "ENABLED" else "disabled by a developer"
    if violations:
        raise invalid(violations)
    if "url" in values:
        _check_unique(conn, env.id, values["url"], current.id)
    if values:
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == current.id)
            .values(**values, update_time=rt.clock.now())
        )
    return get_endpoint(conn, env.id, endpoint_id)


def rotate_secret(rt: Runtime, conn: Connection, env_id: str, endpoint_id: str) -> tuple[Endpoint, str]:
    """A new secret signs from now on; the replaced one also signs for ROTATION_OVERLAP."""
    current = get_endpoint(conn, env_id, endpoint_id)
    row = conn.execute(select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == current.id)).one()
    secret = signing.new_secret()
    now = rt.clock.now()
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == current.id)
        .values(
            secret=rt.sealer.seal(secret.encode(), context=_context(current.id), conn=conn),
            previous_secret=row.secret,
            previous_secret_expire_time=now + ROTATION_OVERLAP,
            update_time=now,
        )
    )
    return get_endpoint(conn, env_id, endpoint_id), secret


def delete_endpoint(conn: Connection, env_id: str, endpoint_id: str) -> None:
    """Delete an endpoint with its deliveries and their attempts (ON DELETE CASCADE); its events stay."""
    current = get_endpoint(conn, env_id, endpoint_id)
    conn.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == current.id))
