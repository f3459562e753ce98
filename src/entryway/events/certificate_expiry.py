"""IdP certificates about to expire: one event per certificate when it enters its last 30 days, one when it expires.

The scan reads every SAML connection's trusted certificates. A certificate is announced at most once per stage
(`expiring`, `expired`): the announcement and its notice row (primary key connection, fingerprint, stage) commit
together, so a second scan, on this instance or another, finds the notice and stays silent, and two scans
racing on the same certificate leave one event (the loser's insert fails on the key and rolls its event back).
A certificate first seen already expired is announced as expired only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from entryway.events.outbox import emit_event
from entryway.events.payloads import timestamp
from entryway.runtime import Runtime
from entryway.services.connections import CertificateFacts, certificate_facts
from entryway.store.tables import certificate_notices, connections

WARNING_WINDOW = timedelta(days=30)

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


def scan_certificates(rt: Runtime) -> list[Notice]:
    """Announce every certificate that newly entered a stage; returns what this run announced."""
    now = rt.clock.now()
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(
                connections.c.id,
                connections.c.environment_id,
                connections.c.organization_id,
                connections.c.saml_config,
            ).where(connections.c.type == "SAML")
        ).all()
        announced = {
            (n.connection_id, n.fingerprint_sha256, n.stage) for n in conn.execute(select(certificate_notices)).all()
        }
    made: list[Notice] = []
    for connection_id, env_id, org_id, config in rows:
        for pem in (config or {}).get("idp_certificates") or []:
            try:
                facts = certificate_facts(pem)
            except ValueError:
                continue  # stored certificates were parsed when saved; an unreadable one is not this scan's to judge
            stage = _stage(facts.not_after, now)
            if stage is None or (connection_id, facts.fingerprint_sha256, stage) in announced:
                continue
            notice = _announce(rt, env_id, org_id, connection_id, facts.fingerprint_sha256, stage, now, facts)
            if notice is not None:
                made.append(notice)
    return made


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
                    "not_before": timestamp(facts.not_before),
                    "not_after": timestamp(facts.not_after),
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
