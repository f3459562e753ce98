"""Hosted pages draw the environment's branding (and an organization's overrides); images are served by Entryway."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.branding import DEFAULT_FAVICON_URL, resolve_branding
from entryway.store.tables import brand_images, environment_branding, organization_branding

ENV_URL = "http://localhost:8000"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201"
    "a1a2d1e10000000049454e44ae426082"
)


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, ENV_URL, "http://localhost:3000/callback")


@pytest.fixture
def browser(rt: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url=ENV_URL) as client:
        yield client


def _store_image(rt: Runtime, env_id: str, data: bytes, content_type: str = "image/png") -> str:
    digest = hashlib.sha256(data).hexdigest()
    with rt.engine.begin() as conn:
        conn.execute(
            insert(brand_images).values(
                environment_id=env_id,
                id=digest,
                content_type=content_type,
                data=data,
                width=1,
                height=1,
                create_time=datetime.now(UTC),
            )
        )
    return digest


def _brand(rt: Runtime, seed: DevSeed, **values: object) -> None:
    with rt.engine.begin() as conn:
        conn.execute(
            insert(environment_branding).values(
                environment_id=seed.environment.id, update_time=datetime.now(UTC), **values
            )
        )


def _error_page(browser: TestClient) -> str:
    answer = browser.get("/oauth/authorize")  # no client_id: the branded error page, never a redirect
    assert answer.status_code == 400
    return answer.text


def test_an_unbranded_environment_shows_the_defaults(browser: TestClient) -> None:
    page = _error_page(browser)
    assert "<span>Entryway</span>" in page
    assert f'<link rel="icon" href="{DEFAULT_FAVICON_URL}">' in page
    assert "--accent: #3b5bdb; --accent-fg: #ffffff;" in page


def test_the_environment_branding_is_on_its_error_pages(rt: Runtime, seed: DevSeed, browser: TestClient) -> None:
    logo = _store_image(rt, seed.environment.id, PNG)
    icon = _store_image(rt, seed.environment.id, PNG + b"\x00")  # another digest
    _brand(rt, seed, display_name="Acme <Cloud>", accent_color="#ffeb3b", logo_image_id=logo, favicon_image_id=icon)
    page = _error_page(browser)
    assert f'<img src="/branding/images/{logo}.png" alt="Acme &lt;Cloud&gt;">' in page
    assert f'<link rel="icon" href="/branding/images/{icon}.png">' in page
    # A pale accent gets dark button text, and links fall back to the dark text colour.
    assert "--accent: #ffeb3b; --accent-fg: #1d2330;" in page
    assert "--link: #1d2330;" in page
    assert "<title>" in page and "Acme &lt;Cloud&gt;</title>" in page


def test_an_organization_overrides_name_and_logo_but_keeps_the_environment_accent(
    rt: Runtime, seed: DevSeed, browser: TestClient
) -> None:
    env_logo = _store_image(rt, seed.environment.id, PNG)
    org_logo = _store_image(rt, seed.environment.id, PNG + b"org")
    _brand(rt, seed, display_name="Acme", accent_color="#1a237e", logo_image_id=env_logo)
    with rt.engine.begin() as conn:
        conn.execute(
            insert(organization_branding).values(
                organization_id=seed.organization_id,
                environment_id=seed.environment.id,
                display_name="Acme for Test Org",
                logo_image_id=org_logo,
                update_time=datetime.now(UTC),
            )
        )
    org = resolve_branding(rt, seed.environment.id, seed.organization_id)
    assert (org.display_name, org.logo_url, org.accent_color) == (
        "Acme for Test Org",
        f"/branding/images/{org_logo}.png",
        "#1a237e",
    )
    other = resolve_branding(rt, seed.environment.id, "org_unknown")
    assert (other.display_name, other.logo_url) == ("Acme", f"/branding/images/{env_logo}.png")
    # The simulator is a page of the Test Organization's connection: it carries the override.
    page = browser.get(f"/sso/v1/simulator/{seed.connection_id}/idp-initiated").text
    assert f'<img src="/branding/images/{org_logo}.png" alt="Acme for Test Org">' in page
    assert "--accent: #1a237e;" in page


def test_an_unknown_host_gets_the_default_branding(rt: Runtime, seed: DevSeed) -> None:
    _brand(rt, seed, display_name="Acme")
    with TestClient(create_app(rt), base_url="http://elsewhere.test") as client:
        answer = client.get("/oauth/authorize")
    assert answer.status_code == 404
    assert "<span>Entryway</span>" in answer.text and "Acme" not in answer.text


def test_images_are_served_with_their_type_and_cached_forever(rt: Runtime, seed: DevSeed, browser: TestClient) -> None:
    digest = _store_image(rt, seed.environment.id, PNG)
    answer = browser.get(f"/branding/images/{digest}.png")
    assert answer.status_code == 200 and answer.content == PNG
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]
    again = browser.get(f"/branding/images/{digest}.png", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_an_image_is_found_only_under_its_own_type_and_environment(rt: Runtime, seed: DevSeed) -> None:
    digest = _store_image(rt, seed.environment.id, PNG)
    other = seed_development(rt, "http://other.localhost:8000", "http://localhost:3000/callback")
    with TestClient(create_app(rt), base_url=ENV_URL) as client:
        assert client.get(f"/branding/images/{digest}.svg").status_code == 404
        assert client.get(f"/branding/images/{digest}").status_code == 404
        assert client.get("/branding/images/../../etc/passwd.png").status_code == 404
    with TestClient(create_app(rt), base_url=other.environment.url) as client:
        assert client.get(f"/branding/images/{digest}.png").status_code == 404


def test_the_default_favicon_is_served(browser: TestClient) -> None:
    answer = browser.get(DEFAULT_FAVICON_URL)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg")
