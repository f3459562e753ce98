"""The dashboard over HTTP: sign-in, sessions and CSRF, secrets shown once, forms sent twice, redirect rules,
organizations, the auth log and the checklist."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from entryway.runtime import Runtime
from entryway.services import auth_log, credentials, environments, owners
from entryway.services.bootstrap import DevSeed
from entryway.store.after_commit import transaction
from entryway.store.tables import client_secrets, dashboard_owners, organizations, redirect_uris
from tests.dashboard.conftest import EMAIL, PASSWORD, Browser, hidden, sign_in


def count(rt: Runtime, table) -> int:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- signing in ---------------------------------------------------------------------------------------


def test_pages_need_a_signed_in_owner(anonymous: TestClient) -> None:
    response = anonymous.get("/dashboard/logs?status=FAILED", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sign-in?next=/dashboard/logs%3Fstatus%3DFAILED"
    assert anonymous.post("/dashboard/organizations", data={"display_name": "x"}).status_code == 401


def test_the_password_is_stored_as_argon2id(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.connect() as conn:
        stored = conn.execute(select(dashboard_owners.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_wrong_password_or_unknown_email_is_refused_alike(anonymous: TestClient) -> None:
    wrong = sign_in(anonymous, password="not the password")
    unknown = sign_in(anonymous, email="nobody@acme.test")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or the password is not right." in wrong.text and "The email or the password" in unknown.text
    assert anonymous.get("/dashboard", follow_redirects=False).status_code == 303


def test_sign_in_without_its_form_cookie_is_refused(anonymous: TestClient) -> None:
    response = anonymous.post(
        "/dashboard/sign-in", data={"email": EMAIL, "password": PASSWORD, "signin_nonce": "forged"}
    )
    assert response.status_code == 403 and "expired" in response.text


def test_an_incomplete_sign_in_says_what_is_missing(anonymous: TestClient) -> None:
    page = anonymous.get("/dashboard/sign-in")
    response = anonymous.post(
        "/dashboard/sign-in", data={"email": EMAIL, "password": "", "signin_nonce": hidden(page.text, "signin_nonce")}
    )
    assert response.status_code == 400 and "Enter your password." in response.text


def test_repeated_failures_are_throttled(anonymous: TestClient) -> None:
    for _ in range(10):
        assert sign_in(anonymous, password="wrong password!").status_code == 401
    throttled = sign_in(anonymous)  # even the right password waits out the window
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text


def test_next_is_only_ever_a_dashboard_path(anonymous: TestClient) -> None:
    page = anonymous.get("/dashboard/sign-in?next=https://evil.example/")
    assert hidden(page.text, "next") == "/dashboard"
    nonce = hidden(page.text, "signin_nonce")
    response = anonymous.post(
        "/dashboard/sign-in",
        data={"email": EMAIL, "password": PASSWORD, "signin_nonce": nonce, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_sign_out_ends_the_session(browser: Browser) -> None:
    response = browser.submit("/dashboard", "/dashboard/sign-out", {})
    assert response.status_code == 303
    assert browser.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_form_without_the_csrf_token_changes_nothing(browser: Browser, rt: Runtime) -> None:
    before = count(rt, organizations)
    response = browser.http.post("/dashboard/organizations", data={"display_name": "Evil Corp"})
    assert response.status_code == 403 and "csrf_failed" in response.text
    assert count(rt, organizations) == before


def test_a_removed_owner_is_signed_out(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        owners.remove_owner(conn, seed.environment.id, EMAIL)
    assert browser.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_session_of_another_environment_is_not_accepted(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    from entryway.model.environments import EnvironmentType

    with rt.engine.begin() as conn:
        environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:8001", display_name="Other"
        )
    response = browser.http.get("http://127.0.0.1:8001/dashboard", follow_redirects=False)
    assert response.status_code == 303  # its cookie names a session of the first environment only


# --- credentials --------------------------------------------------------------------------------------


def test_a_generated_secret_is_shown_once_and_works(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    response = browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {})
    assert response.status_code == 200
    plain = hidden_code(response.text)
    assert plain.startswith("sec_") or len(plain) > 20
    assert credentials.authenticate_client(rt, seed.client_id, plain) is not None
    assert plain not in browser.get("/dashboard/credentials").text  # never shown again


def hidden_code(html: str) -> str:
    import re

    found = re.search(r'<code id="plain-secret">([^<]+)</code>', html)
    assert found
    return found.group(1)


def test_generate_sent_twice_makes_one_secret(browser: Browser, rt: Runtime) -> None:
    html = browser.get("/dashboard/credentials").text
    tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
    before = count(rt, client_secrets)
    first = browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {}, reuse=tokens)
    second = browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {}, reuse=tokens)
    assert first.status_code == 200 and "plain-secret" in first.text
    assert second.status_code == 409 and "already sent" in second.text and "plain-secret" not in second.text
    assert count(rt, client_secrets) == before + 1


def test_a_third_active_secret_is_refused_with_the_reason(browser: Browser, rt: Runtime) -> None:
    browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {})
    before = count(rt, client_secrets)
    response = browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {})
    assert response.status_code == 400 and "deactivate or delete one" in response.text
    assert count(rt, client_secrets) == before


def test_a_past_expiry_is_refused(browser: Browser, rt: Runtime) -> None:
    before = count(rt, client_secrets)
    response = browser.submit("/dashboard/credentials", "/dashboard/credentials/secrets", {"expire_date": "2001-01-01"})
    assert response.status_code == 400 and "future" in response.text
    assert count(rt, client_secrets) == before


def test_deactivate_then_delete(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.connect() as conn:
        (secret,) = credentials.list_secrets(conn, seed.client_id)
    done = browser.submit(
        "/dashboard/credentials", f"/dashboard/credentials/secrets/{secret.id}", {"action": "deactivate"}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=secret_deactivated")
    with rt.engine.connect() as conn:
        assert credentials.list_secrets(conn, seed.client_id)[0].status == "INACTIVE"
    deleted = browser.submit(
        "/dashboard/credentials", f"/dashboard/credentials/secrets/{secret.id}", {"action": "delete"}
    )
    assert deleted.status_code == 303
    again = browser.submit(
        "/dashboard/credentials", f"/dashboard/credentials/secrets/{secret.id}", {"action": "delete"}
    )
    assert again.status_code == 404 and "no longer exists" in again.text


# --- redirects ----------------------------------------------------------------------------------------


def test_the_rules_are_checked_as_you_type(browser: Browser) -> None:
    bad = browser.get("/dashboard/redirects/check", params={"uri": "https://app.example.com/cb?x=1"}).json()
    assert bad["ok"] is False and any("query" in p for p in bad["problems"])
    good = browser.get("/dashboard/redirects/check", params={"uri": "https://app.example.com/cb"}).json()
    assert good == {"ok": True, "problems": []}


def test_adding_an_invalid_uri_keeps_it_in_the_form_with_the_reason(browser: Browser, rt: Runtime) -> None:
    before = count(rt, redirect_uris)
    response = browser.submit("/dashboard/redirects", "/dashboard/redirects", {"kind": "callback", "uri": "ftp://x y"})
    assert response.status_code == 400 and 'value="ftp://x y"' in response.text
    assert count(rt, redirect_uris) == before


def test_adding_a_uri_twice_adds_it_once(browser: Browser, rt: Runtime) -> None:
    before = count(rt, redirect_uris)
    data = {"kind": "callback", "uri": "https://app.example.com/cb"}
    assert browser.submit("/dashboard/redirects", "/dashboard/redirects", data).status_code == 303
    duplicate = browser.submit("/dashboard/redirects", "/dashboard/redirects", data)
    assert duplicate.status_code == 409
    assert count(rt, redirect_uris) == before + 1


def test_the_last_callback_cannot_be_removed(browser: Browser, rt: Runtime) -> None:
    response = browser.submit(
        "/dashboard/redirects",
        "/dashboard/redirects/remove",
        {"kind": "callback", "uri": "http://localhost:3000/callback"},
    )
    assert response.status_code == 400 and "last callback URL" in response.text


def test_an_empty_uri_is_asked_for(browser: Browser) -> None:
    response = browser.submit("/dashboard/redirects", "/dashboard/redirects", {"kind": "callback", "uri": " "})
    assert response.status_code == 400 and "Enter the URL" in response.text


# --- organizations ------------------------------------------------------------------------------------


def test_an_organization_form_sent_twice_creates_one(browser: Browser, rt: Runtime) -> None:
    html = browser.get("/dashboard/organizations").text
    tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
    before = count(rt, organizations)
    first = browser.submit("", "/dashboard/organizations", {"display_name": "Acme"}, reuse=tokens)
    second = browser.submit("", "/dashboard/organizations", {"display_name": "Acme"}, reuse=tokens)
    assert first.status_code == 303 and second.status_code == 409
    assert count(rt, organizations) == before + 1
    page = browser.get(first.headers["location"])
    assert "Acme" in page.text and "The organization was created." in page.text


def test_an_organization_without_a_name_is_asked_for(browser: Browser, rt: Runtime) -> None:
    before = count(rt, organizations)
    response = browser.submit("/dashboard/organizations", "/dashboard/organizations", {"display_name": ""})
    assert response.status_code == 400 and "Enter the organization" in response.text
    assert count(rt, organizations) == before


def test_domains_and_connections_of_an_organization(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    page = f"/dashboard/organizations/{seed.organization_id}"
    added = browser.submit(page, f"{page}/domains", {"domain": "acme.test", "domain_type": "ORGANIZATION_DOMAIN"})
    assert added.status_code == 303
    html = browser.get(page).text
    assert "acme.test" in html and "PENDING" in html
    duplicate = browser.submit(page, f"{page}/domains", {"domain": "acme.test", "domain_type": "ORGANIZATION_DOMAIN"})
    assert duplicate.status_code == 409
    made = browser.submit(page, f"{page}/connections", {"type": "SAML", "provider": "OKTA"})
    assert made.status_code == 303
    html = browser.get(page).text
    assert "Still needed before it can be enabled: idp_entity_id, idp_sso_url, idp_certificates" in html
    connection_id = [c for c in html.split("/connections/") if c.startswith("conn_")][-1].split('"')[0]
    refused = browser.submit(page, f"{page}/connections/{connection_id}", {"action": "enable"})
    assert refused.status_code == 400 and "idp_certificates" in refused.text
    disabled = browser.submit(page, f"{page}/connections/{seed.connection_id}", {"action": "disable"})
    assert disabled.status_code == 303 and disabled.headers["location"].endswith("done=connection_disabled")


# --- auth log and checklist ---------------------------------------------------------------------------


def test_the_auth_log_page_filters_and_charts(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    env_id = seed.environment.id
    with transaction(rt.engine) as conn:
        auth_log.record(rt, conn, environment_id=env_id, status="SUCCESS", step="token", email="ada@acme.test")
        failure = auth_log.record(
            rt,
            conn,
            environment_id=env_id,
            status="FAILED",
            step="callback",
            error_code="signature_validation_failed",
            message="The signature does not verify",
            diagnosis={"wanted": "a signature by SHA256:ab…", "got": "none"},
            email="bob@acme.test",
        )
    html = browser.get("/dashboard/logs").text
    assert "completed logins (1)" in html and "signature_validation_failed (1)" in html
    assert "<svg" in html and "<rect" in html
    only_failed = browser.get("/dashboard/logs", params={"status": "FAILED"}).text
    assert "bob@acme.test" in only_failed and "ada@acme.test" not in only_failed
    wrong = browser.get("/dashboard/logs", params={"status": "MAYBE", "period": "1y"})
    assert wrong.status_code == 200 and "The period must be one of" in wrong.text
    detail = browser.get(f"/dashboard/logs/{failure}").text
    assert "a signature by SHA256:ab…" in detail and "The signature does not verify" in detail
    assert browser.get("/dashboard/logs/err_unknown").status_code == 404


def test_the_checklist_page(browser: Browser) -> None:
    html = browser.get("/dashboard/checklist").text
    assert "Production environment" in html and "Fix:" in html and "b-fail" in html


def test_owners_cli(rt: Runtime, seed: DevSeed) -> None:
    from click.testing import CliRunner

    from entryway.cli import main

    env = {
        "ENTRYWAY_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "ENTRYWAY_DATA_DIR": str(rt.settings.data_dir),
        "ENTRYWAY_MASTER_KEY": __import__("base64").urlsafe_b64encode(rt.settings.master_key).decode(),
    }
    runner = CliRunner()
    short = runner.invoke(main, ["owners", "add", "--email", "new@acme.test"], env=env, input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    made = runner.invoke(
        main, ["owners", "add", "--email", "New@Acme.test"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    again = runner.invoke(
        main, ["owners", "add", "--email", "new@acme.test"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert again.exit_code != 0 and "already an owner" in again.output
    listed = runner.invoke(main, ["owners", "list"], env=env)
    assert "new@acme.test" in listed.output and EMAIL in listed.output
    assert owners.authenticate(rt, seed.environment.id, "new@acme.test", PASSWORD) is not None
