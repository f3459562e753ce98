"""The server's own periodic refresh of IdP metadata (SAML connections imported from an idp_metadata_url).

Every SAML connection with an idp_metadata_url gets a row in metadata_refreshes saying when it is next due
(schedule_new, a scheduled job every SCHEDULE_SECONDS; connections whose metadata was pasted or typed in have
nothing to fetch, so with 100,000 of them there are no rows to keep). A worker claims due rows
with one conditional UPDATE that stamps its lease token on rows whose lease is free or expired (the pattern of
webhook delivery), so however many instances run, one at a time refreshes a given connection; a worker that
dies leaves its lease to expire. For each claimed connection the document is fetched outside any transaction;
an unchanged document (same SHA-256) changes nothing, a changed one is applied through the same validation as
a PATCH (update_connection) and its change record (fields, certificates added and removed) is kept both in
saml_config.idp_metadata_changes and in the row. A failure (unreachable URL, bad metadata, metadata that
would leave an enabled connection incomplete) is recorded in the row and leaves the connection as it was; it
is tried again after at most RETRY_SECONDS. Both passes are scheduled jobs (jobs/catalog.py).
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from entryway.connectors.saml.metadata_import import prefetch
from entryway.model.connections import ConnectionType
from entryway.model.errors import ApiError
from entryway.model.timestamps import rfc3339
from entryway.runtime import Runtime
from entryway.services.connections import find_connection, update_connection
from entryway.services.environments import find_environment
from entryway.store.tables import connections, metadata_refreshes

log = logging.getLogger("entryway.saml.metadata")
R = metadata_refreshes
LEASE_SECONDS = 120  # longer than a fetch can take (10 s per request, 3 redirects)
RETRY_SECONDS = 3600
TICK_SECONDS = 60  # how often due refreshes are looked for
SCHEDULE_SECONDS = 600  # how often connections that gained a metadata URL are given a schedule row
BATCH = 8


@dataclass(frozen=True)
class RefreshOutcome:
    connection_id: str
    result: str  # changed | unchanged | failed | skipped
    detail: dict[str, Any] | None = None


def _interval(rt: Runtime) -> timedelta:
    return timedelta(seconds=rt.settings.metadata_refresh_seconds)


def schedule_new(rt: Runtime, rng: random.Random | None = None) -> int:
    """Give every SAML connection with a metadata URL and without a schedule row one, due at a random point of
    the next interval (spread, so that a fleet of connections is not refreshed in one burst after an upgrade)."""
    rng = rng or random.Random()  # noqa: S311 - spreading load, not a secret
    now = rt.clock.now()
    url = connections.c.saml_config["idp_metadata_url"].as_string()
    with rt.engine.begin() as conn:
        missing = conn.execute(
            select(connections.c.id, connections.c.environment_id)
            .outerjoin(R, R.c.connection_id == connections.c.id)
            .where(
                connections.c.type == ConnectionType.SAML.value,
                url.is_not(None),
                url != "",
                R.c.connection_id.is_(None),
            )
        ).all()
        if missing:
            # One executemany, not a statement per connection: the first pass after an upgrade may schedule
            # 100,000 connections while the server is taking logins.
            conn.execute(
                insert(R),
                [
                    dict(
                        connection_id=connection_id,
                        environment_id=env_id,
                        next_time=now + _interval(rt) * rng.random(),
                        consecutive_failures=0,
                    )
                    for connection_id, env_id in missing
                ],
            )
    return len(missing)


def refresh_state(conn: Connection, connection_id: str) -> dict[str, Any] | None:
    """How the periodic refresh of this connection stands (shown with the connection), or None before its first
    schedule."""
    found = conn.execute(select(R).where(R.c.connection_id == connection_id)).first()
    if found is None:
        return None
    r = found._mapping

    return {
        "next_time": rfc3339(r["next_time"]),
        "last_attempt_time": rfc3339(r["last_attempt_time"]),
        "last_success_time": rfc3339(r["last_success_time"]),
        "last_error": r["last_error"],
        "consecutive_failures": r["consecutive_failures"],
    }


def _lease_free(now: datetime) -> Any:
    return or_(R.c.lease_expire_time.is_(None), R.c.lease_expire_time <= now)


def claim_due(rt: Runtime, limit: int = BATCH) -> tuple[str, list[str]]:
    """Lease up to `limit` due connections to this worker: (its lease token, the connection IDs it holds)."""
    token = secrets.token_hex(16)
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        due = select(R.c.connection_id).where(R.c.next_time <= now, _lease_free(now)).order_by(R.c.next_time)
        # The lease condition is repeated outside the subquery: a row another worker claimed meanwhile fails it.
        conn.execute(
            update(R)
            .where(R.c.connection_id.in_(due.limit(limit).scalar_subquery()), _lease_free(now))
            .values(lease_owner=token, lease_expire_time=now + timedelta(seconds=LEASE_SECONDS))
        )
        held = conn.execute(select(R.c.connection_id).where(R.c.lease_owner == token)).scalars().all()
    return token, list(held)


def _finish(rt: Runtime, token: str, connection_id: str, **values: Any) -> None:
    with rt.engine.begin() as conn:
        conn.execute(
            update(R)
            .where(and_(R.c.connection_id == connection_id, R.c.lease_owner == token))
            .values(lease_owner=None, lease_expire_time=None, **values)
        )


def _problem(exc: ApiError) -> str:
    return "; ".join(f"{v.field}: {v.description}" for v in exc.violations) or exc.message


def refresh_claimed(rt: Runtime, token: str, connection_id: str) -> RefreshOutcome:
    """Refresh one leased connection and record the outcome in its row. Never raises for what the IdP does."""
    now = rt.clock.now()
    with rt.engine.connect() as db:
        row = db.execute(select(R.c.environment_id).where(R.c.connection_id == connection_id)).first()
        env = find_environment(db, row.environment_id) if row is not None else None
        current = find_connection(db, env.id, connection_id) if env is not None else None
    url = current.saml_config.get("idp_metadata_url") if current is not None else None
    if env is None or current is None or current.type is not ConnectionType.SAML or not url:
        # nothing to fetch (metadata pasted or typed in): look again an interval later, the admin may add a URL
        _finish(rt, token, connection_id, next_time=now + _interval(rt))
        return RefreshOutcome(connection_id, "skipped")
    try:
        document = prefetch(rt, allow_http=env.is_development, saml_config={"idp_metadata_url": url})
        assert document is not None
        if hashlib.sha256(document).hexdigest() == current.saml_config.get("idp_metadata_sha256"):
            _finish(
                rt,
                token,
                connection_id,
                next_time=now + _interval(rt),
                last_attempt_time=now,
                last_success_time=now,
                last_error=None,
                consecutive_failures=0,
            )
            return RefreshOutcome(connection_id, "unchanged")
        with rt.engine.begin() as db:
            changed = update_connection(
                rt, db, env, connection_id, {"saml_config": {"idp_metadata_url": url}}, fetched_metadata=document
            )
    except ApiError as exc:
        error = {"time": now.isoformat(), "message": _problem(exc)[:1000]}
        with rt.engine.connect() as db:
            failures = db.execute(
                select(R.c.consecutive_failures).where(R.c.connection_id == connection_id)
            ).scalar_one_or_none()
        retry = min(_interval(rt), timedelta(seconds=RETRY_SECONDS))
        _finish(
            rt,
            token,
            connection_id,
            next_time=now + retry,
            last_attempt_time=now,
            last_error=error,
            consecutive_failures=(failures or 0) + 1,
        )
        log.warning("scheduled IdP metadata refresh of %s failed (connection unchanged): %s", connection_id, error)
        return RefreshOutcome(connection_id, "failed", error)
    change = (changed.saml_config.get("idp_metadata_changes") or [{}])[-1]
    _finish(
        rt,
        token,
        connection_id,
        next_time=now + _interval(rt),
        last_attempt_time=now,
        last_success_time=now,
        last_change=change,
        last_error=None,
        consecutive_failures=0,
    )
    log.info(
        "scheduled IdP metadata refresh of %s: changed %s, certificates added %s, removed %s",
        connection_id,
        change.get("changed_fields"),
        change.get("certificates_added"),
        change.get("certificates_removed"),
    )
    return RefreshOutcome(connection_id, "changed", change)


def refresh_pending(rt: Runtime, limit: int = BATCH) -> list[RefreshOutcome]:
    """Refresh what is due, a batch at a time, until nothing is."""
    outcomes: list[RefreshOutcome] = []
    while True:
        token, held = claim_due(rt, limit)
        if not held:
            return outcomes
        for connection_id in held:
            outcomes.append(refresh_claimed(rt, token, connection_id))


def refresh_due(rt: Runtime, limit: int = BATCH) -> list[RefreshOutcome]:
    """One whole pass, as `entryway` runs it by hand: schedule new connections, then refresh what is due."""
    schedule_new(rt)
    return refresh_pending(rt, limit)
