"""Expiring IdP certificates: one event per certificate and stage, however often and wherever the scan runs."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from entryway.clock import FrozenClock
from entryway.events import certificate_expiry
from entryway.events.certificate_expiry import scan_certificates
from entryway.events.outbox import list_events
from entryway.model.connections import ConnectionType, Provider
from entryway.runtime import Runtime
from entryway.services import connections
from entryway.services.bootstrap import DevSeed
from tests.support.certificates import self_signed


def certificate(name: str, not_after: datetime) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(key, name, not_after - timedelta(days=365), not_after)
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def saml_connection(rt: Runtime, seed: DevSeed, pems: list[str]) -> str:
    with rt.engine.begin() as conn:
        made = connections.insert_connection(
            rt,
            conn,
            env_id=seed.environment.id,
            env_url=seed.environment.url,
            organization_id=seed.organization_id,
            type=ConnectionType.SAML,
            provider=Provider.OKTA,
            saml_config={"idp_entity_id": "https://idp.example", "idp_certificates": pems},
        )
    return made.id


def cert_events(rt: Runtime, seed: DevSeed) -> list[tuple[str, str]]:
    with rt.engine.connect() as conn:
        found = list_events(conn, seed.environment.id, limit=100)
    return sorted(
        (e.type.removeprefix("organization.sso_certificate_"), e.data["subject"])
        for e in found
        if e.type.startswith("organization.sso_certificate_")
    )


def test_each_certificate_is_announced_once_per_stage(rt: Runtime, seed: DevSeed) -> None:
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    now = clock.now()
    connection_id = saml_connection(
        rt,
        seed,
        [
            certificate("soon", now + timedelta(days=10)),
            certificate("later", now + timedelta(days=45)),
            certificate("gone", now - timedelta(days=1)),
        ],
    )
    first = scan_certificates(rt)
    assert {(n.connection_id, n.stage) for n in first} == {(connection_id, "expiring"), (connection_id, "expired")}
    assert cert_events(rt, seed) == [("expired", "CN=gone"), ("expiring", "CN=soon")]
    assert scan_certificates(rt) == []  # a second run is silent
    clock.advance(days=20)  # "later" enters its last 30 days, "soon" expires
    second = scan_certificates(rt)
    assert sorted(n.stage for n in second) == ["expired", "expiring"]
    assert cert_events(rt, seed) == [
        ("expired", "CN=gone"),
        ("expired", "CN=soon"),
        ("expiring", "CN=later"),
        ("expiring", "CN=soon"),
    ]
    with rt.engine.connect() as conn:
        event = next(e for e in list_events(conn, seed.environment.id) if e.type.endswith("expiring"))
    assert event.data["connection_id"] == connection_id and event.organization_id == seed.organization_id
    assert 0 <= event.data["days_left"] <= 30 and len(event.data["fingerprint_sha256"]) == 64


def test_scans_racing_on_several_instances_announce_once(rt: Runtime, seed: DevSeed) -> None:
    now = rt.clock.now()
    saml_connection(rt, seed, [certificate(f"c{i}", now + timedelta(days=5)) for i in range(5)])
    results: list[int] = []
    barrier = threading.Barrier(3)

    def scan() -> None:
        barrier.wait()
        results.append(len(scan_certificates(rt)))

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == 5
    assert len(cert_events(rt, seed)) == 5


def test_certificates_far_from_expiry_are_quiet(rt: Runtime, seed: DevSeed) -> None:
    saml_connection(rt, seed, [certificate("fine", rt.clock.now() + timedelta(days=400))])
    assert scan_certificates(rt) == []
    assert cert_events(rt, seed) == []


def test_the_scan_pages_through_connections_and_parses_a_shared_certificate_once(
    rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = rt.clock.now()
    shared = certificate("shared", now + timedelta(days=5))
    made = [saml_connection(rt, seed, [shared]) for _ in range(4)]
    made.append(saml_connection(rt, seed, [certificate("own", now + timedelta(days=5))]))
    parsed: list[str] = []
    real = certificate_expiry.certificate_facts

    def counting(pem: str) -> certificate_expiry.CertificateFacts:
        parsed.append(pem)
        return real(pem)

    monkeypatch.setattr(certificate_expiry, "certificate_facts", counting)
    notices = scan_certificates(rt, batch=2)  # three pages of connections (and the seed's own)
    assert sorted(n.connection_id for n in notices) == sorted(made)
    assert parsed.count(shared) == 1
    assert scan_certificates(rt, batch=2) == []
