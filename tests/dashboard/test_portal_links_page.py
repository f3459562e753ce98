"""The dashboard's portal links page: a link made once and shown once with its expiry, incomplete and repeated
forms, CSRF, revoking (the link then refuses to open the portal), an unknown organization or link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import portal_links
from tests.dashboard.conftest import Browser, hidden


def _count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(portal_links)).scalar_one())


def _page(seed: DevSeed) -> str:
    return f"/dashboard/organizations/{seed.organization_id}/portal-links"


def _location(html: str) -> str:
    found = re.search(r'<code id="portal-link">([^<]+)</code>', html)
    assert found, "the new link is not shown"
    return found.group(1)


def test_a_link_is_made_once_and_shown_once(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    html = browser.get(_page(seed)).text
    tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
    made = browser.submit("", _page(seed), {"link_type": "SHAREABLE"}, reuse=tokens)
    assert made.status_code == 200, made.text
    location = _location(made.text)
    assert location.startswith(f"{seed.environment.url}/portal/links/")
    assert "It expires on" in made.text and "copy it now" in made.text
    again = browser.submit("", _page(seed), {"link_type": "SHAREABLE"}, reuse=tokens)  # a double click
    assert again.status_code == 409 and "already sent" in again.text
    assert _count(rt) == 1
    listed = browser.get(_page(seed)).text
    assert "shareable" in listed and "by dashboard" in listed
    assert urlsplit(location).path.rsplit("/", 1)[1] not in listed  # listed without its location
    with TestClient(browser.http.app, base_url=seed.environment.url) as admin:
        assert admin.get(urlsplit(location).path, follow_redirects=False).status_code == 303  # it opens the portal


def test_an_embeddable_link_says_it_opens_once(browser: Browser, seed: DevSeed) -> None:
    made = browser.submit(_page(seed), _page(seed), {"link_type": "EMBEDDABLE"})
    assert made.status_code == 200 and "opens once" in made.text and _location(made.text)


def test_an_incomplete_form_says_what_is_missing_and_stores_nothing(
    browser: Browser, rt: Runtime, seed: DevSeed
) -> None:
    for data in ({}, {"link_type": "FOREVER"}):
        response = browser.submit(_page(seed), _page(seed), data)
        assert response.status_code == 400 and "Choose the kind of link" in response.text
    assert _count(rt) == 0


def test_forms_without_the_csrf_token_change_nothing(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    html = browser.get(_page(seed)).text
    refused = browser.http.post(
        _page(seed), data={"link_type": "SHAREABLE", "submission": hidden(html, "submission")}, follow_redirects=False
    )
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert _count(rt) == 0
    browser.submit(_page(seed), _page(seed), {"link_type": "SHAREABLE"})
    link_id = _link_ids(rt)[0]
    revoke = browser.http.post(f"{_page(seed)}/{link_id}/revoke", data={}, follow_redirects=False)
    assert revoke.status_code == 403
    with rt.engine.connect() as conn:
        assert conn.execute(select(portal_links.c.revoke_time)).scalar_one() is None


def _link_ids(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(portal_links.c.id).order_by(portal_links.c.id)).scalars())


def test_revoking_a_link_refuses_it_from_then_on(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    location = _location(browser.submit(_page(seed), _page(seed), {"link_type": "SHAREABLE"}).text)
    link_id = _link_ids(rt)[0]
    revoked = browser.submit(_page(seed), f"{_page(seed)}/{link_id}/revoke", {})
    assert revoked.status_code == 303 and revoked.headers["location"].endswith("?done=link_revoked")
    after = browser.get(revoked.headers["location"]).text
    assert "The link was revoked" in after and link_id not in after
    with TestClient(browser.http.app, base_url=seed.environment.url) as admin:
        refused = admin.get(urlsplit(location).path, follow_redirects=False)
    assert refused.status_code == 410 and "portal_link_revoked" in refused.text
    unknown = browser.submit(_page(seed), f"{_page(seed)}/lnk_nope/revoke", {})
    assert unknown.status_code == 404 and "does not exist in this organization" in unknown.text


def test_an_unknown_organization_is_a_clear_404(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    page = browser.get("/dashboard/organizations/org_nope/portal-links")
    assert page.status_code == 404 and "does not exist" in page.text
    # a real organization page's tokens, sent to an organization that does not exist
    made = browser.submit(_page(seed), "/dashboard/organizations/org_nope/portal-links", {"link_type": "SHAREABLE"})
    assert made.status_code == 404 and "does not exist" in made.text and _count(rt) == 0


def test_reached_from_the_nav_and_the_organization_page(browser: Browser, seed: DevSeed) -> None:
    index = browser.get("/dashboard/portal-links")
    assert index.status_code == 200 and 'href="/dashboard/portal-links" aria-current="page"' in index.text
    assert f'href="{_page(seed)}"' in index.text
    assert f'href="{_page(seed)}"' in browser.get(f"/dashboard/organizations/{seed.organization_id}").text
