"""IdP certificates about to expire: one event per certificate when it enters its last 30 days, one when it expires.

The scan reads every SAML connection's trusted certificates. A certificate is announced at most once per stage
(`expiring`, `expired`): the announcement and its notice row (primary key connection, fingerprint, stage) commit
together, so a second scan, on this instance or another, finds the notice and stays silent, and two scans
racing on the same certificate leave one event (the loser's insert fails on the key and rolls its event back).
A certificate first seen already expired is announced as expired only. The scan is a scheduled job
(jobs/catalog.py): one instance at a time runs it, hourly by default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from entryway.events.outbox import emit_event
from entryway.model.timestamps import rfc3339
from entryway.runtime import Runtime
from entryway.services.connections import CertificateFacts, certificate_facts
from entryway.store.tables import certificate_notices, connections

WARNING_WINDOW = timedelta(days=30)
SCAN_BATCH = 1000
MEMO_LIMIT = 10_000  # distinct certificate texts remembered within one scan

log = logging.getLogger("entryway.events")


@dataclass(frozen=True)
class Notice:
    connection_id: str
    fingerprint_sha256: str
    stage: str
    event_id: str


def _stage(not_after: datetime, now: datetime) -> str | None:
    if not_after <= now:
        return "expired"
    if not_after - now <= WARNING_WINDOW:
        return "expiring"
    return None


def scan_certificates(rt: Runtime, *, batch: int = SCAN_BATCH) -> list[Notice]:
    """Announce every certificate that newly entered a stage; returns what this run announced.

    The connections are read a batch at a time (by ID), with the notices of that batch only, so memory stays
    bounded with 100,000 organizations; a certificate text shared by several connections is parsed once.
    """
    now = rt.clock.now()
    facts_of: dict[str, CertificateFacts | None] = {}
    made: list[Notice] = []
    after = ""
    while True:
        with rt.engine.connect() as conn:
            rows = conn.execute(
                select(
                    connections.c.id,
                    connections.c.environment_id,
                    connections.c.organization_id,
                    connections.c.saml_config,
                )
                .where(connections.c.type == "SAML", connections.c.id > after)
                .order_by(connections.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return made
            announced = {
                (n.connection_id, n.fingerprint_sha256, n.stage)
                for n in conn.execute(
                    select(certificate_notices).where(certificate_notices.c.connection_id.in_([r.id for r in rows]))
                ).all()
            }
        after = rows[-1].id
        for connection_id, env_id, org_id, config in rows:
            for pem in (config or {}).get("idp_certificates") or []:
                facts = _facts(facts_of, str(pem))
                if facts is None:
                    continue  # stored certificates were parsed when saved; an unreadable one is not ours to judge
                stage = _stage(facts.not_after, now)
                if stage is None or (connection_id, facts.fingerprint_sha256, stage) in announced:
                    continue
                notice = _announce(rt, env_id, org_id, connection_id, facts.fingerprint_sha256, stage, now, facts)
                if notice is not None:
                    made.append(notice)
        if len(rows) < batch:
            return made


def _facts(memo: dict[str, CertificateFacts | None], pem: str) -> CertificateFacts | None:
    if pem not in memo:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        try:
            memo[pem] = certificate_facts(pem)
        except ValueError:
            memo[pem] = None
    return memo[pem]


def _announce(
    rt: Runtime,
    env_id: str,
    org_id: str,
    connection_id: str,
    fingerprint: str,
    stage: str,
    now: datetime,
    facts: CertificateFacts,
) -> Notice | None:
    try:
        with rt.engine.begin() as conn:
            event_id = emit_event(
                conn,
                f"organization.sso_certificate_{stage}",
                environment_id=env_id,
                organization_id=org_id,
                occurred_at=now,
                data={
                    "connection_id": connection_id,
                    "fingerprint_sha256": fingerprint,
                    "subject": facts.subject,
                    "not_before": rfc3339(facts.not_before),
                    "not_after": rfc3339(facts.not_after),
                    "days_left": max(0, (facts.not_after - now).days),
                },
            )
            conn.execute(
                insert(certificate_notices).values(
                    connection_id=connection_id,
                    fingerprint_sha256=fingerprint,
                    stage=stage,
                    event_id=event_id,
                    create_time=now,
                )
            )
    except IntegrityError:
        return None  # another instance announced it first (or the connection was deleted meanwhile)
    log.info("certificate %s of connection %s: %s event %s", fingerprint[:16], connection_id, stage, event_id)
    return Notice(connection_id, fingerprint, stage, event_id)
