"""Connection selector precedence (CONTRACT §3.1): connection_id > organization_id > domain / domain_hint >
login_hint; a present selector that is invalid fails the login and never falls through to the next one."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from sqlalchemy import insert, update

from entryway.ids import new_id
from entryway.model.errors import LoginError
from entryway.model.selectors import Selector, SelectorKind, choose_selector, email_domain
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.logins import resolve_connection
from entryway.store.tables import connections, organizations

# In precedence order, each with the kind it selects and the value the selector carries.
SELECTORS: list[tuple[str, str, SelectorKind, str]] = [
    ("connection_id", "conn_1", SelectorKind.CONNECTION, "conn_1"),
    ("organization_id", "org_1", SelectorKind.ORGANIZATION, "org_1"),
    ("domain", "Acme.COM.", SelectorKind.DOMAIN, "acme.com"),
    ("domain_hint", "hint.example", SelectorKind.DOMAIN, "hint.example"),
    ("login_hint", "Jane@Login.Example", SelectorKind.LOGIN_HINT, "login.example"),
]
NONE: dict[str, str | None] = {name: None for name, *_ in SELECTORS}


def choose(**given: str | None) -> Selector:
    return choose_selector(**{**NONE, **given})


@pytest.mark.parametrize(("higher", "lower"), list(combinations(SELECTORS, 2)), ids=lambda s: s[0])
def test_of_every_pair_the_more_specific_selector_wins(higher: tuple[Any, ...], lower: tuple[Any, ...]) -> None:
    selector = choose(**{higher[0]: higher[1], lower[0]: lower[1]})
    assert (selector.kind, selector.value) == (higher[2], higher[3])


@pytest.mark.parametrize("single", SELECTORS, ids=lambda s: s[0])
def test_each_selector_alone(single: tuple[Any, ...]) -> None:
    selector = choose(**{single[0]: single[1]})
    assert (selector.kind, selector.value) == (single[2], single[3])


def test_the_login_hint_travels_with_whichever_selector_wins() -> None:
    assert choose(connection_id="conn_1", login_hint=" jane@acme.com ").login_hint == "jane@acme.com"
    assert choose(domain="acme.com", login_hint="not-an-email").login_hint == "not-an-email"
    assert choose(organization_id="org_1").login_hint is None


def test_empty_values_are_absent() -> None:
    selector = choose(connection_id="", organization_id="", domain="", domain_hint="", login_hint="jane@acme.com")
    assert selector.kind is SelectorKind.LOGIN_HINT


def test_no_selector_is_invalid_connection_selector() -> None:
    with pytest.raises(LoginError) as caught:
        choose()
    assert caught.value.code == "invalid_connection_selector"


@pytest.mark.parametrize(
    ("hint", "domain"),
    [
        ("jane@example.com", "example.com"),
        ("Jane.Doe@Example.COM", "example.com"),
        ("  jane@example.com  ", "example.com"),
        ("jane@sub.example.co.uk", "sub.example.co.uk"),
        ("jane@example.com.", "example.com"),
        ("first+tag@example.org", "example.org"),
        ('"odd@local"@example.com', "example.com"),  # the domain is after the last @
    ],
)
def test_login_hint_domain_parsing(hint: str, domain: str) -> None:
    assert email_domain(hint) == domain
    selector = choose(login_hint=hint)
    assert (selector.kind, selector.value) == (SelectorKind.LOGIN_HINT, domain)


@pytest.mark.parametrize("hint", ["jane", "@example.com", "jane@", "jane@localhost", "jane doe@example.com", "@"])
def test_a_login_hint_without_an_email_domain_is_invalid_user_domain(hint: str) -> None:
    assert email_domain(hint) is None
    with pytest.raises(LoginError) as caught:
        choose(login_hint=hint)
    assert caught.value.code == "invalid_user_domain"
    assert hint not in str(caught.value.diagnosis)  # the hint is user data: it stays out of the auth log


# --- against stored organizations: an invalid selector never falls through ---------------------------


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")


def _empty_organization(rt: Runtime, seed: DevSeed) -> str:
    org_id = new_id("org")
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        conn.execute(
            insert(organizations).values(
                id=org_id,
                environment_id=seed.environment.id,
                display_name="No SSO yet",
                metadata={},
                create_time=now,
                update_time=now,
            )
        )
    return org_id


def resolve(rt: Runtime, seed: DevSeed, **given: str | None) -> str:
    return resolve_connection(rt, seed.environment, choose(**given)).id


def failure(rt: Runtime, seed: DevSeed, **given: str | None) -> str:
    with pytest.raises(LoginError) as caught:
        resolve(rt, seed, **given)
    return caught.value.code


def test_valid_selectors_resolve_to_the_test_organization_connection(rt: Runtime, seed: DevSeed) -> None:
    for given in (
        {"connection_id": seed.connection_id},
        {"organization_id": seed.organization_id},
        {"domain": "example.com"},
        {"domain_hint": "EXAMPLE.ORG"},
        {"login_hint": "jane@example.com"},
    ):
        assert resolve(rt, seed, **given) == seed.connection_id


def test_invalid_higher_selectors_never_fall_through(rt: Runtime, seed: DevSeed) -> None:
    valid_lower = {"login_hint": "jane@example.com", "domain": "example.com"}
    assert failure(rt, seed, connection_id="conn_unknown", organization_id=seed.organization_id) == (
        "invalid_connection_id"
    )
    assert failure(rt, seed, connection_id=seed.organization_id, **valid_lower) == "invalid_connection_id"
    assert failure(rt, seed, organization_id="org_unknown", **valid_lower) == "invalid_organization_id"
    assert failure(rt, seed, domain="unknown.example", login_hint="jane@example.com") == "domain_not_found"
    assert failure(rt, seed, domain_hint="unknown.example", login_hint="jane@example.com") == "domain_not_found"
    empty_org = _empty_organization(rt, seed)
    assert failure(rt, seed, organization_id=empty_org, **valid_lower) == "no_active_connections"


def test_a_disabled_connection_never_falls_through(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(connections).where(connections.c.id == seed.connection_id).values(enabled=False))
    assert failure(rt, seed, connection_id=seed.connection_id, login_hint="jane@example.com") == (
        "connection_not_active"
    )
    assert failure(rt, seed, login_hint="jane@example.com") == "no_active_connections"
