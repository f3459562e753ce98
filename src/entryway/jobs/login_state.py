"""The scheduled purge of expired login state: rows that only mattered while a login, a code, a session or a
replay window was alive.

Each table is purged in batches of BATCH rows, each batch its own short transaction (a DELETE of the oldest
expired rows, found through the expire_time index; store/batched_delete.py), so no long lock is ever held on a
table logins write to.
A run stops after MAX_BATCHES batches per table; what is left goes at the next run.

Some rows are kept past their expiry on purpose (GRACE below):
- an auth request, a day: a response that arrives late is told "the login expired", not "unknown login";
- an authorization code, as long as any token it issued can live: a code replayed later still revokes what it
  issued (RFC 6749 §4.1.2);
- a web session, a day: the dashboard and portal audit log names sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table

from entryway.runtime import Runtime
from entryway.store.batched_delete import delete_in_batches
from entryway.store.tables import (
    auth_codes,
    auth_requests,
    revoked_tokens,
    saml_logouts,
    saml_replay,
    saml_sessions,
    upstream_id_tokens,
    web_sessions,
)

BATCH = 1000
MAX_BATCHES = 100
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Target:
    table: Table
    grace: timedelta = timedelta(0)


def targets(rt: Runtime) -> list[Target]:
    token_life = timedelta(seconds=max(rt.settings.access_token_ttl_seconds, rt.settings.id_token_ttl_seconds))
    return [
        Target(auth_requests, DAY),
        Target(auth_codes, token_life),
        Target(revoked_tokens),  # a token past its exp is refused anyway
        Target(upstream_id_tokens),
        Target(saml_replay),  # kept until the assertion could no longer be accepted
        Target(saml_sessions),
        Target(saml_logouts),
        Target(web_sessions, DAY),
    ]


def purge_table(rt: Runtime, target: Target, *, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> int:
    expire = target.table.c.expire_time
    due = expire < rt.clock.now() - target.grace
    return delete_in_batches(rt.engine, target.table, due, batch=batch, order_by=expire, max_batches=max_batches)


def purge_expired_login_state(rt: Runtime) -> int:
    """One run over every table; returns how many rows went."""
    return sum(purge_table(rt, target) for target in targets(rt))
