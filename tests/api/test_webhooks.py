"""The webhook management API: endpoints, secrets, deliveries, replay, test events, the event log."""

from __future__ import annotations

from dataclasses import replace

import pytest
import standardwebhooks
from fastapi.testclient import TestClient
from sqlalchemy import update

from entryway.events import delivery
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import environments
from tests.api.checks import assert_error, violations
from tests.api.fake_dns import DnsServer
from tests.events.receiver import receiver

TYPES = ["organization.created", "sso.login_failed"]


@pytest.fixture
def loopback_allowed(rt: Runtime) -> None:
    rt.settings = replace(rt.settings, allow_private_fetch=True, webhook_timeout_seconds=2.0)


def create(api: TestClient, url: str, types: list[str] | None = None) -> dict:
    response = api.post("/api/v1/webhooks", json={"url": url, "event_types": types or TYPES})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_shows_the_secret_once(api: TestClient, loopback_allowed: None) -> None:
    body = create(api, "http://127.0.0.1:9/hooks", ["sso.login_failed", "organization.created"])
    assert body["secret"].startswith("whsec_")
    hook = body["webhook"]
    assert hook["id"].startswith("wh_") and hook["status"] == "ENABLED"
    assert hook["event_types"] == ["organization.created", "sso.login_failed"]  # catalogue order
    shown = api.get(f"/api/v1/webhooks/{hook['id']}")
    assert shown.status_code == 200 and "secret" not in shown.json() and body["secret"] not in shown.text
    listed = api.get("/api/v1/webhooks").json()
    assert [w["id"] for w in listed["webhooks"]] == [hook["id"]] and body["secret"] not in str(listed)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "a URL is required"),
        ("not a url", "whitespace"),
        ("ftp://example.com/hook", "must be an absolute"),
        ("http://example.com/hook", "https URL"),  # production rules: the test environment is not development
        ("https://user:pw@example.com/hook", "user information"),
        ("https://example.com/hook#part", "fragment"),
        ("https://example.com:99999/hook", "not a valid URL"),
        ("https://127.0.0.1/hook", "non-public address"),
        ("https://10.0.0.8/hook", "non-public address"),
        ("https://169.254.169.254/latest/meta-data", "non-public address"),
        ("https://[::1]/hook", "non-public address"),
        ("https://localhost/hook", "non-public address"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
        ("https://example.com/" + "a" * 2100, "at most 2048"),
    ],
)
def test_bad_urls_are_400_and_nothing_is_stored(
    rt: Runtime, api: TestClient, seed: DevSeed, url: str, problem: str
) -> None:
    if url.startswith("http://example.com"):
        # the seeded environment is a development one, where http is allowed: make it a production one
        with rt.engine.begin() as conn:
            conn.execute(update(environments).values(type="production"))
    response = api.post("/api/v1/webhooks", json={"url": url, "event_types": TYPES})
    assert_error(response, 400)
    assert problem in violations(response)["url"]
    assert api.get("/api/v1/webhooks").json()["total_size"] == 0


def test_bad_event_types_are_400_naming_each(api: TestClient, loopback_allowed: None) -> None:
    response = api.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "event_types": ["organization.created", "user.made"]}
    )
    assert_error(response, 400)
    assert "'user.made' is not an event type" in violations(response)["event_types"]
    empty = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "event_types": []})
    assert "non-empty list" in violations(empty)["event_types"]


def test_a_duplicate_registration_is_409(api: TestClient, loopback_allowed: None) -> None:
    first = create(api, "http://127.0.0.1:9/hooks")
    again = api.post("/api/v1/webhooks", json={"url": "HTTP://127.0.0.1:9/hooks", "event_types": TYPES})
    assert_error(again, 409)
    assert first["webhook"]["id"] in again.json()["message"]
    other = create(api, "http://127.0.0.1:9/other")
    moved = api.patch(f"/api/v1/webhooks/{other['webhook']['id']}", json={"url": "http://127.0.0.1:9/hooks"})
    assert_error(moved, 409)
    assert api.get("/api/v1/webhooks").json()["total_size"] == 2


def test_patch_disable_enable_and_delete(api: TestClient, loopback_allowed: None) -> None:
    hook = create(api, "http://127.0.0.1:9/hooks")["webhook"]
    url = f"/api/v1/webhooks/{hook['id']}"
    changed = api.patch(url, json={"event_types": ["sso.login_succeeded"], "description": "prod"}).json()["webhook"]
    assert changed["event_types"] == ["sso.login_succeeded"] and changed["description"] == "prod"
    off = api.patch(url, json={"status": "DISABLED"}).json()["webhook"]
    assert off["status"] == "DISABLED" and off["disabled_reason"]
    assert_error(api.patch(url, json={"status": "PAUSED"}), 400)
    assert_error(api.patch(url, json={"secret": "whsec_x"}), 400)
    assert api.patch(url, json={"status": "ENABLED"}).json()["webhook"]["disabled_reason"] is None
    assert api.delete(url).status_code == 200
    assert_error(api.get(url), 404)
    assert_error(api.delete(url), 404)


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_signing(api: TestClient, loopback_allowed: None) -> None:
    with receiver() as hook:
        created = create(api, hook.url)
        rotated = api.post(f"/api/v1/webhooks/{created['webhook']['id']}:rotate_secret")
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != created["secret"]
        assert rotated.json()["webhook"]["previous_secret_expire_time"] is not None
        api.post(f"/api/v1/webhooks/{created['webhook']['id']}:test")
    [got] = hook.received
    for secret in (created["secret"], new):
        standardwebhooks.Webhook(secret).verify(got.body, got.headers)


def test_the_test_call_sends_now_and_answers_with_the_attempt(api: TestClient, loopback_allowed: None) -> None:
    with receiver() as hook:
        created = create(api, hook.url)
        hook.script = [(500, 0)]
        failed = api.post(f"/api/v1/webhooks/{created['webhook']['id']}:test")
        ok = api.post(f"/api/v1/webhooks/{created['webhook']['id']}:test")
    assert failed.status_code == 200 and ok.status_code == 200
    bad = failed.json()["delivery"]
    assert bad["status"] == "FAILED" and bad["event_type"] == "webhook.test"
    assert bad["attempts"][0]["status_code"] == 500 and bad["attempts"][0]["response_excerpt"] == "receiver says no"
    good = ok.json()["delivery"]
    assert good["status"] == "SUCCEEDED" and good["attempts"][0]["trigger"] == "test"
    assert standardwebhooks.Webhook(created["secret"]).verify(hook.received[1].body, hook.received[1].headers)


def test_an_unreachable_endpoint_test_is_a_recorded_failure_not_an_error(
    api: TestClient, loopback_allowed: None
) -> None:
    from tests.support.server import free_port

    created = create(api, f"http://127.0.0.1:{free_port()}/nobody-listens")
    answer = api.post(f"/api/v1/webhooks/{created['webhook']['id']}:test")
    assert answer.status_code == 200
    attempt = answer.json()["delivery"]["attempts"][0]
    assert attempt["outcome"] == "FAILURE" and attempt["error"].startswith("could not connect")


def test_deliveries_are_listed_and_replayed(rt: Runtime, api: TestClient, loopback_allowed: None) -> None:
    with receiver() as hook:
        hook.script = [(500, 0)]
        created = create(api, hook.url)
        hook_id = created["webhook"]["id"]
        org = api.post("/api/v1/organizations", json={"display_name": "Acme"}).json()["organization"]
        delivery.deliver_due(rt)
        listed = api.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"status": "PENDING"}).json()
        assert listed["total_size"] == 1
        [pending] = listed["deliveries"]
        assert pending["event_type"] == "organization.created" and pending["last_status_code"] == 500
        replayed = api.post(f"/api/v1/webhooks/{hook_id}/deliveries/{pending['id']}:replay")
        assert replayed.status_code == 200
        shown = replayed.json()["delivery"]
        assert shown["status"] == "SUCCEEDED"
        assert [(a["trigger"], a["outcome"]) for a in shown["attempts"]] == [
            ("scheduled", "FAILURE"),
            ("replay", "SUCCESS"),
        ]
    assert hook.ids()[0] == hook.ids()[1]
    assert (
        standardwebhooks.Webhook(created["secret"]).verify(hook.received[1].body, hook.received[1].headers)["data"][
            "id"
        ]
        == org["id"]
    )
    assert_error(api.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"status": "LOST"}), 400)
    assert_error(api.post(f"/api/v1/webhooks/{hook_id}/deliveries/dlv_nope:replay"), 404)
    assert_error(api.get("/api/v1/webhooks/wh_nope/deliveries"), 404)


def test_the_event_log_lists_events_as_their_webhook_bodies(api: TestClient, dns_server: DnsServer) -> None:
    org = api.post("/api/v1/organizations", json={"display_name": "Acme"}).json()["organization"]
    dom = api.post(
        f"/api/v1/organizations/{org['id']}/domains", json={"domain": "acme.com", "domain_type": "ORGANIZATION_DOMAIN"}
    ).json()["domain"]
    api.patch(f"/api/v1/organizations/{org['id']}/domains/{dom['id']}:verify")  # no record yet: failed
    dns_server.txt[dom["verification_record"]["name"]] = [dom["verification_record"]["value"]]
    api.patch(f"/api/v1/organizations/{org['id']}/domains/{dom['id']}:verify")
    listed = api.get("/api/v1/events", params={"organization_id": org["id"]}).json()
    assert [e["type"] for e in listed["events"]] == [
        "organization.domain_dns_verification_success",
        "organization.domain_dns_verification_failed",
        "organization.domain_created",
        "organization.created",
    ]
    assert listed["total_size"] == 4
    first = api.get("/api/v1/events", params={"organization_id": org["id"], "page_size": 3}).json()
    rest = api.get(
        "/api/v1/events", params={"organization_id": org["id"], "page_size": 3, "page_token": first["next_page_token"]}
    ).json()
    assert [e["type"] for e in rest["events"]] == ["organization.created"]
    one = api.get(f"/api/v1/events/{listed['events'][0]['id']}").json()["event"]
    assert one["data"]["verification_status"] == "VERIFIED" and one["spec_version"] == "1"
    assert_error(api.get("/api/v1/events", params={"type": "nope"}), 400)
    assert_error(api.get("/api/v1/events/evt_nope"), 404)


def test_event_types_are_listed_with_their_meaning(api: TestClient) -> None:
    types = api.get("/api/v1/webhooks/event_types").json()["event_types"]
    names = [t["type"] for t in types]
    assert "organization.created" in names and "sso.login_failed" in names
    assert "organization.sso_certificate_expiring" in names
    assert all(t["description"] for t in types)
