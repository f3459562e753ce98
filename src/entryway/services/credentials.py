"""Clients and their secrets: created and shown once, stored as a SHA-256 hash, rotated in pairs.

Secrets are 256-bit random values, so a fast hash is the right one-way function (a slow password hash
protects low-entropy input, which these are not) and keeps the token endpoint cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from entryway.ids import new_id
from entryway.model.environments import MAX_API_CLIENT_SECRETS, MAX_APP_SECRETS
from entryway.model.errors import ApiError, FieldViolation, not_found
from entryway.model.scopes import ALL_SCOPES, MANAGEMENT_SCOPES
from entryway.runtime import Runtime
from entryway.store.config_cache import NOT_CONFIG
from entryway.store.tables import client_secrets, clients

SECRET_PREFIX = "ews_"
# last_used_time is written at most this often per secret, so busy token endpoints don't write every call.
_LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_secret(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    id: str
    environment_id: str
    kind: str
    name: str
    scopes: list[str]


@dataclass(frozen=True)
class Secret:
    id: str
    client_id: str
    secret_suffix: str
    status: str
    create_time: datetime
    update_time: datetime
    last_used_time: datetime | None
    expire_time: datetime | None
    created_by: str | None


def _secret(row: object) -> Secret:
    r = row._mapping  # type: ignore[attr-defined]
    return Secret(
        r["id"],
        r["client_id"],
        r["secret_suffix"],
        r["status"],
        r["create_time"],
        r["update_time"],
        r["last_used_time"],
        r["expire_time"],
        r["created_by"],
    )


def get_client(conn: Connection, client_id: str) -> Client | None:
    row = conn.execute(select(clients).where(clients.c.id == client_id)).first()
    if row is None:
        return None
    return Client(row.id, row.environment_id, row.kind, row.name, list(row.scopes))


def list_clients(conn: Connection, env_id: str) -> list[Client]:
    rows = conn.execute(select(clients).where(clients.c.environment_id == env_id).order_by(clients.c.create_time)).all()
    return [Client(r.id, r.environment_id, r.kind, r.name, list(r.scopes)) for r in rows]


def environment_client(conn: Connection, env_id: str, client_id: str) -> Client:
    """A client of this environment, or a 404 (another environment's client is as unknown as a missing one)."""
    client = get_client(conn, client_id)
    if client is None or client.environment_id != env_id:
        raise not_found("client", client_id)
    return client


def get_secret(conn: Connection, client: Client, secret_id: str) -> Secret:
    return _owned_secret(conn, client, secret_id)


def create_api_client(rt: Runtime, conn: Connection, env_id: str, name: str, scopes: list[str]) -> Client:
    """A machine-to-machine client for the management API, holding `scopes` ("*" = every scope)."""
    problems: list[FieldViolation] = []
    if not name.strip() or len(name) > 200:
        problems.append(FieldViolation("name", "1-200 characters"))
    if not scopes:
        problems.append(FieldViolation("scopes", "give at least one scope"))
    for scope in scopes:
        if scope != ALL_SCOPES and scope not in MANAGEMENT_SCOPES:
            problems.append(
                FieldViolation("scopes", f"unknown scope {scope!r}; known: {', '.join(MANAGEMENT_SCOPES)} or *")
            )
    if problems:
        raise ApiError(400, "The API client cannot be created", problems)
    scopes = list(dict.fromkeys(scopes))
    client_id = new_id("skc")
    conn.execute(
        insert(clients).values(
            id=client_id, environment_id=env_id, kind="api", name=name, scopes=scopes, create_time=rt.clock.now()
        )
    )
    return Client(client_id, env_id, "api", name, scopes)


def list_secrets(conn: Connection, client_id: str) -> list[Secret]:
    rows = conn.execute(
        select(client_secrets).where(client_secrets.c.client_id == client_id).order_by(client_secrets.c.create_time)
    ).all()
    return [_secret(r) for r in rows]


def _limit(client: Client) -> int:
    return MAX_APP_SECRETS if client.kind == "app" else MAX_API_CLIENT_SECRETS


def create_secret(
    rt: Runtime, conn: Connection, client: Client, *, expire_time: datetime | None = None, created_by: str | None = None
) -> tuple[str, Secret]:
    """Create a secret; the plain value is returned here and never again."""
    active = [s for s in list_secrets(conn, client.id) if s.status == "ACTIVE"]
    if len(active) >= _limit(client):
        raise ApiError(
            400,
            f"client {client.id} already has {len(active)} active secrets (the most allowed): "
            "deactivate or delete one before creating another",
            [FieldViolation("client_id", f"at most {_limit(client)} active secrets")],
        )
    now = rt.clock.now()
    if expire_time is not None and expire_time <= now:
        raise ApiError(400, "expire_time must be in the future", [FieldViolation("expire_time", "in the past")])
    plain = SECRET_PREFIX + secrets.token_urlsafe(32)
    secret_id = new_id("sec")
    conn.execute(
        insert(client_secrets).values(
            id=secret_id,
            client_id=client.id,
            secret_hash=hash_secret(plain),
            secret_suffix=plain[-4:],
            status="ACTIVE",
            create_time=now,
            update_time=now,
            last_used_time=None,
            expire_time=expire_time,
            created_by=created_by,
        )
    )
    row = conn.execute(select(client_secrets).where(client_secrets.c.id == secret_id)).one()
    return plain, _secret(row)


def _owned_secret(conn: Connection, client: Client, secret_id: str) -> Secret:
    row = conn.execute(
        select(client_secrets).where(client_secrets.c.id == secret_id, client_secrets.c.client_id == client.id)
    ).first()
    if row is None:
        raise not_found("secret", secret_id)
    return _secret(row)


def set_secret_status(rt: Runtime, conn: Connection, client: Client, secret_id: str, status: str) -> Secret:
    if status not in ("ACTIVE", "INACTIVE"):
        raise ApiError(400, "status must be ACTIVE or INACTIVE", [FieldViolation("status", f"got {status!r}")])
    secret = _owned_secret(conn, client, secret_id)
    if status == "ACTIVE" and secret.status != "ACTIVE":
        active = [s for s in list_secrets(conn, client.id) if s.status == "ACTIVE"]
        if len(active) >= _limit(client):
            raise ApiError(
                400,
                f"client {client.id} already has {len(active)} active secrets: deactivate one first",
                [FieldViolation("status", f"at most {_limit(client)} active secrets")],
            )
    conn.execute(
        update(client_secrets).where(client_secrets.c.id == secret_id).values(status=status, update_time=rt.clock.now())
    )
    return _owned_secret(conn, client, secret_id)


def delete_secret(conn: Connection, client: Client, secret_id: str) -> None:
    _owned_secret(conn, client, secret_id)
    conn.execute(delete(client_secrets).where(client_secrets.c.id == secret_id))


def cached_client(rt: Runtime, client_id: str) -> Client | None:
    """A client by ID from the configuration cache (the login path's lookup)."""
    return rt.config.fetch(("client", client_id), get_client, client_id)


@dataclass(frozen=True)
class _StoredSecret:
    id: str
    secret_hash: str
    status: str
    expire_time: datetime | None
    last_used_time: datetime | None


def _client_secrets(rt: Runtime, client_id: str) -> tuple[_StoredSecret, ...]:
    def load() -> tuple[_StoredSecret, ...]:
        with rt.engine.connect() as conn:
            rows = conn.execute(select(client_secrets).where(client_secrets.c.client_id == client_id)).all()
        return tuple(_StoredSecret(r.id, r.secret_hash, r.status, r.expire_time, r.last_used_time) for r in rows)

    return rt.config.get(("client_secrets", client_id), load)


def authenticate_client(rt: Runtime, client_id: str, plain_secret: str) -> Client | None:
    """The client, if `plain_secret` is one of its active, unexpired secrets; compared in constant time.

    The client and its secrets' hashes, statuses and expiry come from the configuration cache, so a
    deactivated or deleted secret stops working as soon as the cache sees the change (store/config_cache.py);
    expiry is judged against the clock on every call.
    """
    if not client_id or not plain_secret or len(plain_secret) > 256:
        return None
    digest = hash_secret(plain_secret)
    now = rt.clock.now()
    client = cached_client(rt, client_id)
    if client is None:
        return None
    match: _StoredSecret | None = None
    for stored in _client_secrets(rt, client_id):
        # compare every row, matching or not, so timing says nothing about which secret matched
        equal = hmac.compare_digest(stored.secret_hash, digest)
        if equal and stored.status == "ACTIVE" and (stored.expire_time is None or stored.expire_time > now):
            match = stored
    if match is None:
        return None
    _note_use(rt, match, now)
    return client


def _note_use(rt: Runtime, secret: _StoredSecret, now: datetime) -> None:
    """Write last_used_time at most once a _LAST_USED_RESOLUTION per secret and process."""
    written: dict[str, datetime] = rt.caches.setdefault("secret_last_used", {})  # type: ignore[assignment]
    last = max((t for t in (secret.last_used_time, written.get(secret.id)) if t is not None), default=None)
    if last is not None and now - last <= _LAST_USED_RESOLUTION:
        return
    written[secret.id] = now
    with rt.engine.begin() as conn:
        # Not a configuration change: the cache keeps its entries (and the trigger ignores this column).
        conn.execute(
            update(client_secrets)
            .where(client_secrets.c.id == secret.id)
            .values(last_used_time=now)
            .execution_options(**{NOT_CONFIG: True})
        )
