"""Portal fixtures: a seeded development environment, an organization, and a browser holding a portal session."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments, organizations, portal_links
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.portal_links import LinkType

ENV_URL = "http://localhost:8000"
APP_ORIGIN = "http://localhost:3000"


@dataclass
class Portal:
    rt: Runtime
    seed: DevSeed
    org_id: str
    browser: TestClient

    def csrf(self, page: httpx.Response) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        return found.group(1)

    def post(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        token = self.csrf(self.browser.get("/portal"))
        return self.browser.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    @staticmethod
    def portal_data(page: httpx.Response) -> dict:
        found = re.search(r'<script type="application/json" id="portal-data">(.*?)</script>', page.text, re.S)
        assert found
        return json.loads(found.group(1))


def open_portal(rt: Runtime, seed: DevSeed, org_id: str, link_type: LinkType = LinkType.SHAREABLE) -> TestClient:
    with rt.engine.begin() as conn:
        _, location = portal_links.create_link(rt, conn, seed.environment, org_id, link_type, "test")
    browser = TestClient(create_app(rt), base_url=ENV_URL, follow_redirects=False)
    assert browser.get(urlsplit(location).path).status_code == 303
    return browser


@pytest.fixture
def portal(rt: Runtime) -> Iterator[Portal]:
    rt.settings = replace(rt.settings, allow_private_fetch=True)  # the test IdPs listen on loopback
    seed = seed_development(rt, ENV_URL, APP_ORIGIN + "/callback")
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, seed.environment.id, display_name="Acme Corp")
        environments.add_redirect_uri(rt, conn, seed.environment, RedirectKind.CALLBACK, "https://*.acme.test/cb")
    with open_portal(rt, seed, org.id) as browser:
        yield Portal(rt, seed, org.id, browser)
