"""A seeded development environment with one dashboard owner, and a browser-like client signed in as them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services import owners
from entryway.services.bootstrap import DevSeed, seed_development

EMAIL = "dev@acme.test"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    seeded = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    with rt.engine.begin() as conn:
        owners.add_owner(rt, conn, seeded.environment.id, EMAIL, PASSWORD)
    return seeded


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


@dataclass
class Browser:
    http: TestClient

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.http.get(path, **kw)  # type: ignore[arg-type]

    def submit(self, page_path: str, action: str, data: dict[str, str], *, reuse: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        """Load the page for its tokens (or reuse them, as a resend would), then post the form."""
        tokens = reuse
        if tokens is None:
            html = self.http.get(page_path).text
            tokens = {"csrf_token": hidden(html, "csrf_token")}
            if 'name="submission"' in html:
                tokens["submission"] = hidden(html, "submission")
        return self.http.post(action, data={**tokens, **data}, follow_redirects=False)


def sign_in(http: TestClient, email: str = EMAIL, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = http.get("/dashboard/sign-in")
    nonce = hidden(page.text, "signin_nonce")
    return http.post(
        "/dashboard/sign-in",
        data={"email": email, "password": password, "signin_nonce": nonce, "next": "/dashboard"},
        follow_redirects=False,
    )


@pytest.fixture
def anonymous(rt: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url=seed.environment.url) as http:
        yield http


@pytest.fixture
def browser(rt: Runtime, seed: DevSeed) -> Iterator[Browser]:
    with TestClient(create_app(rt), base_url=seed.environment.url) as http:
        assert sign_in(http).status_code == 303
        yield Browser(http)
