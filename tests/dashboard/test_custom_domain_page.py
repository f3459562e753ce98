"""The dashboard's custom domain page on a production environment: set the domain, the DNS record to publish,
"verify now" against a real DNS server on loopback (wanted vs found when it fails), the .env line to change once
verified, remove; bad, incomplete, repeated and forged (no CSRF token) submissions change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from entryway.app import create_app
from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import environments, owners
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import environments as environments_table
from entryway.web.sessions import audit_events
from tests.api.fake_dns import DnsServer
from tests.api.fake_dns import dns_server as running_dns
from tests.dashboard.conftest import EMAIL, PASSWORD, Browser, hidden, sign_in

BASE = "https://acme.entryway.test"
CUSTOM = "sso.acme.test"
PAGE = "/dashboard/custom-domain"


@pytest.fixture
def dns(rt: Runtime) -> Iterator[DnsServer]:
    with running_dns() as server:
        rt.settings = replace(rt.settings, dns_nameserver=server.address)
        yield server


@pytest.fixture
def prod_env(rt: Runtime) -> environments.Environment:
    with rt.engine.begin() as conn:
        env, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url=BASE, display_name="Production"
        )
        owners.add_owner(rt, conn, env.id, EMAIL, PASSWORD)
    return env


@pytest.fixture
def prod(rt: Runtime, prod_env: environments.Environment, dns: DnsServer) -> Iterator[Browser]:
    with TestClient(create_app(rt), base_url=BASE) as http:
        assert sign_in(http).status_code == 303
        yield Browser(http)


def stored(rt: Runtime, env_id: str) -> tuple[str | None, bool]:
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(environments_table.c.custom_domain, environments_table.c.custom_domain_verified).where(
                environments_table.c.id == env_id
            )
        ).one()
    return row.custom_domain, bool(row.custom_domain_verified)


def test_setting_the_domain_shows_the_record_to_publish(
    prod: Browser, rt: Runtime, prod_env: environments.Environment
) -> None:
    page = prod.get(PAGE)
    assert page.status_code == 200 and 'id="domain-form"' in page.text and "NONE" in page.text
    answer = prod.submit(PAGE, PAGE, {"domain": "SSO.Acme.Test."})
    assert answer.status_code == 303 and answer.headers["location"] == f"{PAGE}?done=set"
    assert stored(rt, prod_env.id) == (CUSTOM, False)
    shown = prod.get(answer.headers["location"]).text
    assert "Publish the DNS record below" in shown
    assert f'<code id="record-name">{CUSTOM}</code>' in shown
    assert '<code id="record-value">acme.entryway.test</code>' in shown
    assert 'data-copy="record-value"' in shown and "PENDING" in shown
    assert f"ENTRYWAY_ENV_URL=https://{CUSTOM}" in shown  # what the app will change, once verified
    with rt.engine.connect() as conn:
        assert [e.action for e in audit_events(conn, prod_env.id, action="custom_domain.set")] == ["custom_domain.set"]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the domain name"),
        ("https://sso.acme.test", "domain"),
        ("*.acme.test", "domain"),
        ("acme.entryway.test", "own host, not a custom domain"),
    ],
)
def test_bad_or_incomplete_input_says_why_and_changes_nothing(
    prod: Browser, rt: Runtime, prod_env: environments.Environment, typed: str, says: str
) -> None:
    answer = prod.submit(PAGE, PAGE, {"domain": typed})
    assert answer.status_code == 400
    assert says in answer.text and 'role="alert"' in answer.text
    if typed:
        assert f'value="{typed}"' in answer.text  # kept in the form to correct
    assert stored(rt, prod_env.id) == (None, False)


def test_a_form_sent_twice_changes_nothing_the_second_time(
    prod: Browser, rt: Runtime, prod_env: environments.Environment
) -> None:
    html = prod.get(PAGE).text
    tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
    assert prod.submit(PAGE, PAGE, {"domain": CUSTOM}, reuse=tokens).status_code == 303
    again = prod.submit(PAGE, PAGE, {"domain": "other.acme.test"}, reuse=tokens)
    assert again.status_code == 409 and "already sent" in again.text
    assert stored(rt, prod_env.id) == (CUSTOM, False)


def test_a_form_without_the_csrf_token_changes_nothing(
    prod: Browser, rt: Runtime, prod_env: environments.Environment, dns: DnsServer
) -> None:
    forged = prod.http.post(PAGE, data={"domain": CUSTOM, "submission": "x" * 20})
    assert forged.status_code == 403 and "csrf_failed" in forged.text
    assert stored(rt, prod_env.id) == (None, False)
    assert prod.submit(PAGE, PAGE, {"domain": CUSTOM}).status_code == 303
    dns.cname[CUSTOM] = "acme.entryway.test"
    assert prod.http.post(f"{PAGE}/verify", data={}).status_code == 403
    assert prod.http.post(f"{PAGE}/remove", data={}).status_code == 403
    assert stored(rt, prod_env.id) == (CUSTOM, False)


def test_verify_now_shows_wanted_and_found_until_the_record_is_right(
    prod: Browser, rt: Runtime, prod_env: environments.Environment, dns: DnsServer
) -> None:
    prod.submit(PAGE, PAGE, {"domain": CUSTOM})
    dns.cname[CUSTOM] = "old-provider.example.net"
    failed = prod.submit(PAGE, f"{PAGE}/verify", {})
    assert failed.status_code == 200
    assert "Not verified yet" in failed.text
    assert "is a CNAME for old-provider.example.net, not for acme.entryway.test" in failed.text
    assert "<code>CNAME acme.entryway.test</code>" in failed.text  # wanted
    assert "<code>old-provider.example.net</code>" in failed.text  # found
    assert stored(rt, prod_env.id) == (CUSTOM, False)

    dns.cname[CUSTOM] = "acme.entryway.test"
    verified = prod.submit(PAGE, f"{PAGE}/verify", {})
    assert verified.status_code == 200 and "DNS points at this environment" in verified.text
    assert stored(rt, prod_env.id) == (CUSTOM, True)
    page = verified.text
    assert 'id="domain-status">VERIFIED' in page
    assert f'<code id="environment-url">https://{CUSTOM}</code>' in page
    assert f"replace <code>ENTRYWAY_ENV_URL={BASE}</code>" in page
    assert f'<code id="env-line">ENTRYWAY_ENV_URL=https://{CUSTOM}</code>' in page
    assert 'id="domain-form"' not in page  # a verified domain is removed, not replaced, first
    with rt.engine.connect() as conn:
        assert audit_events(conn, prod_env.id, action="custom_domain.verified")
    # the environment is now served, with its issuer, on the custom domain
    with TestClient(create_app(rt), base_url=f"https://{CUSTOM}") as app:
        assert app.get("/.well-known/openid-configuration").json()["issuer"] == f"https://{CUSTOM}"


def test_verify_without_a_domain_says_to_set_one(prod: Browser) -> None:
    answer = prod.submit(PAGE, f"{PAGE}/verify", {})
    assert answer.status_code == 412 and "set one first" in answer.text


def test_remove_says_which_env_line_to_put_back(
    prod: Browser, rt: Runtime, prod_env: environments.Environment, dns: DnsServer
) -> None:
    prod.submit(PAGE, PAGE, {"domain": CUSTOM})
    dns.cname[CUSTOM] = "acme.entryway.test"
    prod.submit(PAGE, f"{PAGE}/verify", {})
    html = prod.get(PAGE).text
    tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
    removed = prod.submit(PAGE, f"{PAGE}/remove", {}, reuse=tokens)
    assert removed.status_code == 200 and "The custom domain was removed" in removed.text
    assert f'<code id="env-line">ENTRYWAY_ENV_URL={BASE}</code>' in removed.text
    assert stored(rt, prod_env.id) == (None, False)
    again = prod.submit(PAGE, f"{PAGE}/remove", {}, reuse=tokens)
    assert again.status_code == 409 and "already sent" in again.text
    nothing = prod.submit(PAGE, f"{PAGE}/remove", {})
    assert nothing.status_code == 409 and "no custom domain to remove" in nothing.text


def test_a_development_environment_explains_custom_domains_are_for_production(browser: Browser, seed: DevSeed) -> None:
    page = browser.get(PAGE)
    assert page.status_code == 200 and "for <strong>production</strong> environments" in page.text
    # the page has no form to send here; a hand-made request is refused by the service's rule
    tokens = {"csrf_token": hidden(page.text, "csrf_token"), "submission": "a-fresh-submission-token"}
    refused = browser.submit(PAGE, PAGE, {"domain": CUSTOM}, reuse=tokens)
    assert refused.status_code == 412 and "production environments" in refused.text
