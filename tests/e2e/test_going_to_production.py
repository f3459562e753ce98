"""docs/going-to-production.md as a test: from a fresh production server to a green `entryway check --env
production`, with the dashboard as the only tool after the operator's first steps.

The operator's part is done as an operator does it, with real processes: `entryway migrate`, `env create` and
`owners add` from the CLI, then `entryway serve` on PostgreSQL with ENTRYWAY_MASTER_KEY set (no key file in the
data directory), behind a TLS reverse proxy trusted through ENTRYWAY_TRUSTED_PROXIES, so the environment URL is
https. DNS is a real DNS server on loopback (ENTRYWAY_DNS_NAMESERVER) where the test "publishes" records; the
webhook receiver is a real HTTP server on loopback.

Everything the developer does then happens in headless Chromium through the dashboard: a secret (shown once),
redirect URIs under production rules, branding, the custom domain verified against DNS, the initiate-login URL, a
webhook endpoint for sso.login_failed. The app then uses the `.env` values the dashboard showed, and the real
`entryway check --env production --app-env` must exit 0 with every check passed — as must the dashboard's own
checklist page.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import standardwebhooks
from playwright.sync_api import Browser, Page, expect

from entryway.config import new_master_key_text
from tests.api.fake_dns import DnsServer
from tests.api.fake_dns import dns_server as running_dns
from tests.dashboard.test_branding_page import png
from tests.e2e.browser import chromium
from tests.events.receiver import Receiver, receiver
from tests.support.databases import POSTGRES_ADMIN_URL, worker_name
from tests.support.log_scan import scan_process_output
from tests.support.server import free_port, wait_healthy
from tests.support.tls_proxy import tls_proxy

pytestmark = pytest.mark.e2e

ENTRYWAY = str(Path(sys.executable).parent / "entryway")
BASE_HOST = "acme.entryway.test"  # the environment's own name, on the operator's ingress
CUSTOM = "sso.acme.test"  # the custom domain the developer gives it
APP_HOST = "app.acme.test"  # the app, whose callback must resolve in DNS
OWNER = "owner@acme.test"
PASSWORD = "a long owner password"


@dataclass
class Operator:
    """The production server and the operator's shell: its environment variables and the real CLI."""

    env: dict[str, str]
    workdir: Path
    proxy_port: int
    dns: DnsServer
    hooks: Receiver

    def cli(self, *args: str, input: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        # A new session has no controlling terminal, so the password prompt reads the given input, not a tty.
        done = subprocess.run(
            [ENTRYWAY, *args], env=self.env, input=input, capture_output=True, text=True, timeout=120,
            start_new_session=True, cwd=self.workdir,
        )  # fmt: skip
        if ok:
            assert done.returncode == 0, f"entryway {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def url(self, host: str, path: str = "") -> str:
        return f"https://{host}:{self.proxy_port}{path}"

    def app_http(self, host: str) -> httpx.Client:
        """How the app reaches Entryway: https through the proxy, with `host` as the name it uses."""
        return httpx.Client(
            base_url=f"https://127.0.0.1:{self.proxy_port}", headers={"Host": host}, verify=False, timeout=30
        )


def _database() -> tuple[str, str]:
    name = f"entryway_walkthrough_{worker_name()}_{os.getpid()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[Operator]:
    name, database_url = _database()
    data_dir = tmp_path / "data"
    port = free_port()
    with running_dns() as dns, receiver() as hooks:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ENTRYWAY_")},
            "ENTRYWAY_DATABASE_URL": database_url,
            "ENTRYWAY_DATA_DIR": str(data_dir),
            # from the operator's secret store: never a file in the data directory
            "ENTRYWAY_MASTER_KEY": new_master_key_text(),
            "ENTRYWAY_TRUSTED_PROXIES": "127.0.0.1",
            "ENTRYWAY_DNS_NAMESERVER": dns.address,
            # the webhook receiver of this test lives on loopback; a real one would be a public https URL
            "ENTRYWAY_ALLOW_PRIVATE_FETCH": "1",
            "ENTRYWAY_WEBHOOK_WORKER": "1",
        }
        # the ingress name the environment is created with resolves (as the operator's DNS would have it)
        dns.a[BASE_HOST] = [["192.0.2.80"]]
        dns.a[APP_HOST] = [["192.0.2.10"]]
        log = tmp_path / "serve.log"
        with tls_proxy(port, [BASE_HOST, CUSTOM], tmp_path) as proxy_port:
            op = Operator(env, tmp_path, proxy_port, dns, hooks)
            op.cli("migrate")
            with log.open("wb") as out:
                server = subprocess.Popen(
                    [ENTRYWAY, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
                )  # fmt: skip
                try:
                    wait_healthy(f"http://127.0.0.1:{port}", server, log.read_text)
                    yield op
                finally:
                    server.terminate()
                    try:
                        server.wait(timeout=40)
                    except subprocess.TimeoutExpired:
                        server.kill()
                    scan_process_output("serve", log.read_text())  # the production server's own log lines
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def browser() -> Iterator[Browser]:
    # The proxy's names resolve to loopback inside this browser only; the Host header stays the real name.
    with chromium(f"--host-resolver-rules=MAP {BASE_HOST} 127.0.0.1,MAP {CUSTOM} 127.0.0.1") as launched:
        yield launched


def _env_file(page: Page) -> dict[str, str]:
    text = page.locator("pre").first.inner_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_from_development_defaults_to_a_green_production_checklist(operator: Operator, browser: Browser) -> None:
    op = operator
    # --- the operator: a production environment and its first owner, from the CLI --------------------------
    made = json.loads(op.cli("env", "create", "--type", "production", "--url", f"https://{BASE_HOST}",
                             "--name", "Acme", "--json").stdout)  # fmt: skip
    env_id = made["id"]
    op.cli("owners", "add", "--email", OWNER, "--env", env_id, input=f"{PASSWORD}\n{PASSWORD}\n")
    before = op.cli("check", "--env", "production", ok=False)
    assert before.returncode == 1, before.stdout  # a fresh production environment is not ready

    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        ignore_https_errors=True,
        permissions=["clipboard-read", "clipboard-write"],  # the copy buttons
    )
    page = context.new_page()

    # --- sign in ---------------------------------------------------------------------------------------------
    page.goto(op.url(BASE_HOST, "/dashboard"))
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")

    # --- credentials: a secret, shown once ---------------------------------------------------------------------
    page.click("nav >> text=Credentials")
    page.click("text=Generate a secret")
    secret = page.locator("#plain-secret").inner_text().strip()
    assert secret
    page.reload()
    assert secret not in page.content()

    # --- redirect URIs under production rules ----------------------------------------------------------------
    page.click("nav >> text=Redirects")
    page.fill("#uri", "http://localhost:3000/callback")
    expect(page.locator("#problems li.bad").first).to_be_visible()  # explained while typed
    page.click("#add-redirect button[type=submit]")
    expect(page.locator(".error")).to_be_visible()  # and refused on submit
    page.fill("#uri", f"https://{APP_HOST}/callback")
    expect(page.locator("#problems li.good")).to_contain_text("can be registered")
    page.click("#add-redirect button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("The URI was added.")
    page.select_option("#kind", "initiate_login")
    page.fill("#uri", f"https://{APP_HOST}/login/sso")
    page.click("#add-redirect button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("The initiate-login URL was saved.")

    # --- branding: name, colour, logo, favicon ---------------------------------------------------------------
    logo, favicon = op.workdir / "logo.png", op.workdir / "favicon.png"
    logo.write_bytes(png(120, 40))
    favicon.write_bytes(png(32, 32))
    page.click("nav >> text=Branding")
    page.fill("#display_name", "Acme Sign-in")
    page.fill("#accent_color", "#224488")
    page.set_input_files("#logo", str(logo))
    page.set_input_files("#favicon", str(favicon))
    page.click("#branding-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("The branding was saved")

    # --- the custom domain, verified against DNS (on a phone's width: nothing may overflow it) ---------------
    page.set_viewport_size({"width": 375, "height": 800})
    page.click("nav >> text=Custom domain")
    page.fill("#domain", f"https://{CUSTOM}/")
    page.click("#domain-form button[type=submit]")
    expect(page.locator(".error")).to_be_visible()  # a URL is not a domain name: said, and nothing saved
    page.fill("#domain", CUSTOM)
    page.click("#domain-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("Publish the DNS record below")
    name = page.locator("#record-name").inner_text().strip()
    value = page.locator("#record-value").inner_text().strip()
    assert (name, value) == (CUSTOM, BASE_HOST)
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#dns-check")).to_contain_text("Not verified yet")
    expect(page.locator("#dns-check")).to_contain_text(f"add the record {CUSTOM} CNAME {BASE_HOST}")
    page.click("button[data-copy=record-value]")
    expect(page.locator("button[data-copy=record-value]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == value
    op.dns.cname[name] = copied  # the developer publishes the record the page showed
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#dns-check")).to_contain_text("DNS points at this environment")
    expect(page.locator("#domain-status")).to_have_text("VERIFIED")
    env_line = page.locator("#env-line").inner_text().strip()
    assert env_line == f"ENTRYWAY_ENV_URL=https://{CUSTOM}"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- a webhook endpoint for failed logins, with a real receiver ------------------------------------------
    page.click("nav >> text=Webhooks")
    page.fill("#url", op.hooks.url)
    page.check("input[name=event_types][value='sso.login_failed']")
    page.click("text=Add endpoint")
    signing_secret = page.locator("#plain-secret").inner_text().strip()
    page.click("text=Send a test event")
    op.hooks.wait_for(1)
    got = op.hooks.received[0]
    assert standardwebhooks.Webhook(signing_secret).verify(got.body, got.headers)["type"] == "webhook.test"

    # --- the app's .env, as the dashboard shows it -----------------------------------------------------------
    page.click("nav >> text=Overview")
    shown = _env_file(page)
    assert f"ENTRYWAY_ENV_URL={shown['ENTRYWAY_ENV_URL']}" == env_line
    app_env = {"ENTRYWAY_ENV_URL": shown["ENTRYWAY_ENV_URL"], "ENTRYWAY_CLIENT_ID": shown["ENTRYWAY_CLIENT_ID"],
               "ENTRYWAY_CLIENT_SECRET": secret}  # fmt: skip
    env_file = op.workdir / "app.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in app_env.items()))

    # --- the app on the custom domain: the issuer it sees is its own .env URL, and its credentials work ------
    with op.app_http(CUSTOM) as app:
        discovery = app.get("/.well-known/openid-configuration").json()
        assert discovery["issuer"] == app_env["ENTRYWAY_ENV_URL"]
        basic = base64.b64encode(f"{app_env['ENTRYWAY_CLIENT_ID']}:{secret}".encode()).decode()
        token = app.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {basic}"})  # fmt: skip
        assert token.status_code == 200, token.text
        listed = app.get(
            "/api/v1/environment/checklist", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert listed.status_code == 200, listed.text
        assert listed.json()["checklist"]["status"] == "pass", listed.json()
        # a login that fails (a code the app cannot redeem) reaches the app's backend as sso.login_failed
        bad = app.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": "not-a-code",
                "redirect_uri": f"https://{APP_HOST}/callback",
            },
            headers={"Authorization": f"Basic {basic}"},
        )
        assert bad.status_code == 400, bad.text
    op.hooks.wait_for(2)
    failure = op.hooks.received[1]
    event = standardwebhooks.Webhook(signing_secret).verify(failure.body, failure.headers)
    assert event["type"] == "sso.login_failed" and event["data"]["error_code"] == bad.json()["error"]

    # --- the real `entryway check`, as CI runs it -------------------------------------------------------------
    check = op.cli("check", "--env", "production", "--app-env", str(env_file), "--json", ok=False)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)["checklist"]
    not_passed = [f"{c['rule']}: {c['status']} — {c['detail']}" for c in report["checks"] if c["status"] != "pass"]
    assert not not_passed, not_passed
    assert report["status"] == "pass" and report["counts"]["pass"] == len(report["checks"])

    # --- and the dashboard's checklist is green too ------------------------------------------------------------
    page.click("nav >> text=Checklist")
    expect(page.locator("main")).to_contain_text(f"{len(report['checks'])} passed, 0 warned, 0 failed")
    assert page.locator("main .badge.b-warn, main .badge.b-fail").count() == 0
    found = page.locator("main section.card").count()
    assert found == len(report["checks"])
    assert re.search(r"\bpass\b", page.locator("main > p").first.inner_text())
    context.close()
