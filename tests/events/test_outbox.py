"""The outbox: events commit with the change that caused them, and fan out to the subscribed endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from entryway.events import endpoints
from entryway.events.outbox import emit_event, list_events
from entryway.events.types import EVENT_TYPES
from entryway.runtime import Runtime
from entryway.services import auth_log, connections, domains, organizations
from entryway.services.bootstrap import DevSeed
from entryway.store.after_commit import transaction
from entryway.store.tables import events, webhook_deliveries


def _types(rt: Runtime, env_id: str) -> list[str]:
    with rt.engine.connect() as conn:
        return [e.type for e in reversed(list_events(conn, env_id, limit=100))]


def _endpoint(rt: Runtime, seed: DevSeed, url: str, types: list[str]) -> str:
    with rt.engine.begin() as conn:
        created, _ = endpoints.create_endpoint(rt, conn, seed.environment, url=url, event_types=types)
    return created.id


def test_an_event_commits_with_its_change_and_fans_out_to_subscribed_endpoints(rt: Runtime, seed: DevSeed) -> None:
    wanted = _endpoint(rt, seed, "http://127.0.0.1:9/a", ["organization.created"])
    _endpoint(rt, seed, "http://127.0.0.1:9/b", ["organization.deleted"])
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, seed.environment.id, display_name="Acme")
    with rt.engine.connect() as conn:
        event = conn.execute(select(events).where(events.c.type == "organization.created")).one()
        sent_to = conn.execute(select(webhook_deliveries.c.endpoint_id, webhook_deliveries.c.event_id)).all()
    assert event.organization_id == org.id
    assert event.data["id"] == org.id and event.data["display_name"] == "Acme"
    assert sent_to == [(wanted, event.id)]


def test_a_rolled_back_change_leaves_no_event_and_no_delivery(rt: Runtime, seed: DevSeed) -> None:
    _endpoint(rt, seed, "http://127.0.0.1:9/a", ["organization.created"])
    before = _types(rt, seed.environment.id)
    with pytest.raises(RuntimeError), rt.engine.begin() as conn:
        organizations.create_organization(rt, conn, seed.environment.id, display_name="Acme")
        raise RuntimeError("the request failed after the change")
    assert _types(rt, seed.environment.id) == before
    with rt.engine.connect() as conn:
        assert conn.execute(select(webhook_deliveries)).all() == []


def test_a_disabled_endpoint_gets_no_new_deliveries(rt: Runtime, seed: DevSeed) -> None:
    endpoint_id = _endpoint(rt, seed, "http://127.0.0.1:9/a", ["organization.created"])
    with rt.engine.begin() as conn:
        endpoints.update_endpoint(rt, conn, seed.environment, endpoint_id, {"status": "DISABLED"})
        organizations.create_organization(rt, conn, seed.environment.id, display_name="Acme")
    with rt.engine.connect() as conn:
        assert conn.execute(select(webhook_deliveries)).all() == []


def test_an_unknown_event_type_is_a_programming_error(rt: Runtime, seed: DevSeed) -> None:
    with pytest.raises(ValueError, match="not an Entryway event type"), rt.engine.begin() as conn:
        emit_event(conn, "organization.renamed", environment_id=seed.environment.id, data={})


def test_the_services_emit_the_contract_events(rt: Runtime, seed: DevSeed) -> None:
    env = seed.environment
    start = len(_types(rt, env.id))
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, env.id, display_name="Acme")
        organizations.update_organization(rt, conn, env.id, org.id, {"display_name": "Acme Inc"})
        organizations.update_organization(rt, conn, env.id, org.id, {})  # no change, no event
        dom = domains.create_domain(rt, conn, env.id, org.id, domain="acme.example", domain_type="ORGANIZATION_DOMAIN")
        domains.delete_domain(conn, env.id, org.id, dom.id)
        created = connections.create_connection(rt, conn, env, org.id, type="SAML", provider="IDP_SIMULATOR")
        connections.set_enabled(rt, conn, env, created.id, True)
        connections.set_enabled(rt, conn, env, created.id, True)  # already enabled, no event
        connections.set_enabled(rt, conn, env, created.id, False)
        connections.delete_connection(rt, conn, env.id, created.id)
        organizations.delete_organization(conn, env.id, org.id)
    assert _types(rt, env.id)[start:] == [
        "organization.created",
        "organization.updated",
        "organization.domain_created",
        "organization.domain_deleted",
        "organization.sso_created",
        "organization.sso_enabled",
        "organization.sso_disabled",
        "organization.sso_deleted",
        "organization.deleted",
    ]


@pytest.mark.parametrize(
    ("status", "step", "expected"),
    [
        ("PENDING", "callback", "sso.login_succeeded"),
        ("PENDING", "idp_initiated", "sso.login_succeeded"),
        ("FAILED", "callback", "sso.login_failed"),
        ("FAILED", "authorize", "sso.login_failed"),
        ("FAILED", "token", "sso.login_failed"),
        ("INITIATED", "authorize", None),
        ("SUCCESS", "token", None),
    ],
)
def test_login_outcomes_in_the_auth_log_are_events(
    rt: Runtime, seed: DevSeed, status: str, step: str, expected: str | None
) -> None:
    env_id = seed.environment.id
    start = len(_types(rt, env_id))
    extra: dict[str, Any] = {"error_code": "invalid_status", "message": "The IdP said no"} if status == "FAILED" else {}
    with transaction(rt.engine) as conn:
        ref = auth_log.record(
            rt,
            conn,
            environment_id=env_id,
            status=status,
            step=step,
            organization_id=seed.organization_id,
            connection_id=seed.connection_id,
            email="ada@example.com",
            **extra,
        )
    with rt.engine.connect() as conn:
        new = list(reversed(list_events(conn, env_id, limit=100)))[start:]
    assert [e.type for e in new] == ([expected] if expected else [])
    if expected:
        assert new[0].data["reference"] == ref
        assert new[0].data["error_code"] == extra.get("error_code")
        assert new[0].organization_id == seed.organization_id


def test_every_event_type_names_its_object() -> None:
    assert all(
        obj in {"organization", "connection", "domain", "login", "certificate"} for obj, _ in EVENT_TYPES.values()
    )


def _login_succeeded(rt: Runtime, seed: DevSeed) -> None:
    with transaction(rt.engine) as conn:
        auth_log.record(
            rt, conn, environment_id=seed.environment.id, status="PENDING", step="callback",
            organization_id=seed.organization_id, connection_id=seed.connection_id, email="ada@example.com",
        )  # fmt: skip


def _delivered_to(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return [r.endpoint_id for r in conn.execute(select(webhook_deliveries.c.endpoint_id))]


def test_login_events_reach_endpoints_added_or_disabled_after_the_subscribers_were_cached(
    rt: Runtime, seed: DevSeed
) -> None:
    """The auth log reads the subscriber list from the configuration cache; a change to the endpoints counts for
    the very next login event."""
    _login_succeeded(rt, seed)  # nobody subscribed: an empty list is what gets cached
    assert _delivered_to(rt) == []
    added = _endpoint(rt, seed, "http://127.0.0.1:9/a", ["sso.login_succeeded"])
    _login_succeeded(rt, seed)
    assert _delivered_to(rt) == [added]
    with rt.engine.begin() as conn:
        endpoints.update_endpoint(rt, conn, seed.environment, added, {"status": "DISABLED"})
    _login_succeeded(rt, seed)
    assert _delivered_to(rt) == [added]  # no new delivery
