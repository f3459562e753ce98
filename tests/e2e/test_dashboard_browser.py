"""The dashboard's main paths in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), at a
phone's width (375 px) and a desktop's (1280 px), against a real server on a loopback port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import func, select

from entryway.dashboard.templates import NAV
from entryway.runtime import Runtime
from entryway.services import auth_log, owners
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.after_commit import transaction
from entryway.store.tables import client_secrets, organizations, portal_links
from tests.support.server import free_port, running_server

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EMAIL = "dev@acme.test"
PASSWORD = "correct horse battery staple"
PAGES = [
    "/dashboard",
    "/dashboard/credentials",
    "/dashboard/redirects",
    "/dashboard/organizations",
    "/dashboard/portal-links",
    "/dashboard/logs",
    "/dashboard/webhooks",
    "/dashboard/branding",
    "/dashboard/custom-domain",
    "/dashboard/checklist",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def live(rt: Runtime) -> Iterator[tuple[str, DevSeed]]:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", "http://127.0.0.1:9/callback")
    with transaction(rt.engine) as conn:
        owners.add_owner(rt, conn, seed.environment.id, EMAIL, PASSWORD)
        auth_log.record(rt, conn, environment_id=seed.environment.id, status="SUCCESS", step="token", email="a@x.test")
        auth_log.record(
            rt, conn, environment_id=seed.environment.id, status="FAILED", step="callback",
            error_code="invalid_status", message="The IdP refused the login", email="b@x.test",
        )  # fmt: skip
    with running_server(rt, port) as base:
        yield base, seed


def signed_in_page(chromium: Browser, base: str, width: int) -> Page:
    context = chromium.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/dashboard/logs")
    expect(page).to_have_url(f"{base}/dashboard/sign-in?next=/dashboard/logs")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/dashboard/logs")  # back where the visitor was going
    return page


def count(rt: Runtime, table) -> int:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# Each browser test runs on both storage backends (the `rt` fixture); where a test is also repeated per width,
# each width is paired with one backend (a page's layout does not depend on the database), so PostgreSQL is
# covered without doubling the slowest tests.
@pytest.mark.parametrize(("backend", "width"), [("sqlite", 375), ("postgresql", 1280)])
def test_every_page_fits_the_width(chromium: Browser, live: tuple[str, DevSeed], width: int) -> None:
    base, seed = live
    page = signed_in_page(chromium, base, width)
    org = f"/dashboard/organizations/{seed.organization_id}"
    for path in [*PAGES, org, f"{org}/portal-links"]:
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than {width} px"
        # every nav link is reachable (the bar scrolls sideways on a phone rather than overflowing the page)
        assert page.locator("nav a").count() == len(NAV)
    page.context.close()


@pytest.mark.parametrize(("backend", "width"), [("postgresql", 375), ("sqlite", 1280)])
def test_generate_a_secret_shown_once(chromium: Browser, live: tuple[str, DevSeed], rt: Runtime, width: int) -> None:
    base, _ = live
    page = signed_in_page(chromium, base, width)
    page.goto(f"{base}/dashboard/credentials")
    before = count(rt, client_secrets)
    page.click("text=Generate a secret")
    secret = page.locator("#plain-secret")
    expect(secret).to_be_visible()
    plain = secret.inner_text()
    assert count(rt, client_secrets) == before + 1
    page.goto(f"{base}/dashboard/credentials")
    assert plain not in page.content()
    page.context.close()


def test_redirect_rules_explained_as_you_type(chromium: Browser, live: tuple[str, DevSeed]) -> None:
    base, _ = live
    page = signed_in_page(chromium, base, 1280)
    page.goto(f"{base}/dashboard/redirects")
    page.fill("#uri", "https://app.example.com/cb?debug=1")
    expect(page.locator("#problems li.bad").first).to_contain_text("query strings are not allowed")
    page.fill("#uri", "https://app.example.com/cb")
    expect(page.locator("#problems li.good")).to_contain_text("can be registered")
    page.click("#add-redirect button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("The URI was added.")
    expect(page.locator("code", has_text="https://app.example.com/cb")).to_be_visible()
    page.context.close()


def test_a_double_click_creates_one_organization(chromium: Browser, live: tuple[str, DevSeed], rt: Runtime) -> None:
    base, _ = live
    page = signed_in_page(chromium, base, 375)
    page.goto(f"{base}/dashboard/organizations")
    before = count(rt, organizations)
    page.fill("#display_name", "Globex")
    page.dblclick("text=Create")
    expect(page.locator(".notice")).to_contain_text("The organization was created.")
    assert count(rt, organizations) == before + 1
    page.context.close()


def test_the_auth_log_chart_and_an_event(chromium: Browser, live: tuple[str, DevSeed]) -> None:
    base, _ = live
    page = signed_in_page(chromium, base, 1280)
    expect(page.locator(".legend")).to_contain_text("completed logins (1)")
    expect(page.locator(".legend")).to_contain_text("invalid_status (1)")
    assert page.locator("svg rect").count() == 2
    page.select_option("#status", "FAILED")
    page.click("text=Filter")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.click("tbody tr a")
    expect(page.locator("main")).to_contain_text("The IdP refused the login")
    page.context.close()


def test_branding_live_preview(chromium: Browser, live: tuple[str, DevSeed]) -> None:
    base, _ = live
    page = signed_in_page(chromium, base, 375)
    page.goto(f"{base}/dashboard/branding")
    page.fill("#display_name", "Initech Sign-in")
    preview = page.frame_locator("#preview")
    expect(preview.locator("body")).to_contain_text("Initech Sign-in")
    page.click("#branding-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("The branding was saved")
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_portal_link_shown_once_fits_the_width(
    chromium: Browser, live: tuple[str, DevSeed], rt: Runtime, width: int
) -> None:
    base, seed = live
    page = signed_in_page(chromium, base, width)
    page.goto(f"{base}/dashboard/organizations/{seed.organization_id}")
    page.click("text=Make, list or revoke portal links")
    page.dblclick("text=Make link")  # a double click makes one link
    location = page.locator("#portal-link")
    expect(location).to_be_visible()
    assert location.inner_text().startswith(f"{base}/portal/links/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert count(rt, portal_links) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Revoke")
    expect(page.locator(".notice")).to_contain_text("The link was revoked")
    page.context.close()
