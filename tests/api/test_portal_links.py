"""Portal links over the management API: creation, listing, revocation, and opening them in a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import Clock, FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.web.sessions import SessionKind, audit_events
from tests.api.conftest import client_with, token_for


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def clock() -> Clock:
    # Real time (API tokens are checked against it), frozen so that link and session lifetimes can be stepped.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


def _link(api: TestClient, org_id: str, link_type: str | None = None) -> dict:
    response = api.put(
        f"/api/v1/organizations/{org_id}/portal_links", json={"link_type": link_type} if link_type else None
    )
    assert response.status_code == 200, response.text
    return response.json()["link"]


def _browser(rt: Runtime, seed: DevSeed) -> TestClient:
    return TestClient(create_app(rt), base_url=seed.environment.url, follow_redirects=False)


def _open(browser: TestClient, location: str):
    return browser.get(urlsplit(location).path)


def test_shareable_link_opens_the_portal_for_seven_days(
    rt: Runtime, seed: DevSeed, api: TestClient, clock: FrozenClock
) -> None:
    link = _link(api, seed.organization_id, "SHAREABLE")
    assert link["link_type"] == "SHAREABLE" and link["id"].startswith("lnk_")
    assert link["location"].startswith(seed.environment.url + "/portal/links/")
    assert link["expire_time"] == rfc3339(clock.at + timedelta(days=7))
    listed = api.get(f"/api/v1/organizations/{seed.organization_id}/portal_links").json()
    assert [(x["id"], x["location"]) for x in listed["links"]] == [(link["id"], None)] and listed["total_size"] == 1
    browser = _browser(rt, seed)
    opened = _open(browser, link["location"])
    assert opened.status_code == 303 and opened.headers["location"] == "/portal"
    assert "entryway_portal=" in opened.headers["set-cookie"]
    assert _open(_browser(rt, seed), link["location"]).status_code == 303  # reusable
    clock.advance(days=7)
    expired = _open(_browser(rt, seed), link["location"])
    assert expired.status_code == 410 and "portal_link_expired" in expired.text
    with rt.engine.connect() as conn:
        actions = [e.action for e in audit_events(conn, seed.environment.id, kind=SessionKind.PORTAL)]
    assert actions == ["portal_link.opened", "portal_link.opened"]


def test_embeddable_link_opens_once_within_a_minute(
    rt: Runtime, seed: DevSeed, api: TestClient, clock: FrozenClock
) -> None:
    link = _link(api, seed.organization_id)  # no body: EMBEDDABLE, as Scalekit's generate_portal_link
    assert link["link_type"] == "EMBEDDABLE" and link["expire_time"] == rfc3339(clock.at + timedelta(minutes=1))
    assert _open(_browser(rt, seed), link["location"]).status_code == 303
    reused = _open(_browser(rt, seed), link["location"])
    assert reused.status_code == 410 and "portal_link_used" in reused.text
    late = _link(api, seed.organization_id, "EMBEDDABLE")
    clock.advance(seconds=61)
    expired = _open(_browser(rt, seed), late["location"])
    assert expired.status_code == 410 and "portal_link_expired" in expired.text
    assert api.get(f"/api/v1/organizations/{seed.organization_id}/portal_links").json()["links"] == []


def test_embedded_session_lasts_six_hours(rt: Runtime, seed: DevSeed, api: TestClient, clock: FrozenClock) -> None:
    link = _link(api, seed.organization_id, "EMBEDDABLE")
    browser = _browser(rt, seed)
    _open(browser, link["location"])
    for _ in range(6):
        clock.advance(minutes=59)
        assert browser.get("/portal").status_code == 200
    clock.advance(minutes=7)  # 6 h 01 min after opening, although used 7 minutes ago
    ended = browser.get("/portal")
    assert ended.status_code == 401 and "session_expired" in ended.text


def test_revoking_a_link_refuses_it_and_ends_its_sessions(rt: Runtime, seed: DevSeed, api: TestClient) -> None:
    link = _link(api, seed.organization_id, "SHAREABLE")
    browser = _browser(rt, seed)
    _open(browser, link["location"])
    assert browser.get("/portal").status_code == 200
    revoked = api.delete(f"/api/v1/organizations/{seed.organization_id}/portal_links/{link['id']}")
    assert revoked.status_code == 200 and revoked.json() == {}
    assert browser.get("/portal").status_code == 401
    again = _open(_browser(rt, seed), link["location"])
    assert again.status_code == 410 and "portal_link_revoked" in again.text
    missing = api.delete(f"/api/v1/organizations/{seed.organization_id}/portal_links/lnk_nope")
    assert missing.status_code == 404


def test_forged_or_mistyped_links_are_refused(rt: Runtime, seed: DevSeed, api: TestClient) -> None:
    link = _link(api, seed.organization_id, "SHAREABLE")
    for path in (urlsplit(link["location"]).path[:-1], "/portal/links/" + "A" * 43, "/portal/links/" + "x" * 300):
        refused = _browser(rt, seed).get(path)
        assert refused.status_code == 404 and "portal_link_invalid" in refused.text
        assert "set-cookie" not in refused.headers


def test_link_api_input_and_scopes(rt: Runtime, seed: DevSeed, api: TestClient) -> None:
    bad = api.put(f"/api/v1/organizations/{seed.organization_id}/portal_links", json={"link_type": "FOREVER"})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["validation_error_info"]["field_violations"][0]["field"] == "link_type"
    unknown = api.put(f"/api/v1/organizations/{seed.organization_id}/portal_links", json={"extra": 1})
    assert unknown.status_code == 400
    assert api.put("/api/v1/organizations/org_missing/portal_links").status_code == 404
    with client_with(rt, seed, token_for(rt, seed, ["portal_links:read"])) as reader:
        assert reader.get(f"/api/v1/organizations/{seed.organization_id}/portal_links").status_code == 200
        assert reader.put(f"/api/v1/organizations/{seed.organization_id}/portal_links").status_code == 403
