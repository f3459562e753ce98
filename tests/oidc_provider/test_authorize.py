"""/oauth/authorize: which failures show an error page, which redirect (with a recorded reference), and the
auth request a good one stores before handing over to the connector."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, update

from entryway.ids import new_id
from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import auth_log, credentials, environments
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import auth_events, auth_requests, connections, organizations
from tests.oidc_provider.support import CALLBACK, CHALLENGE, query


def base_params(seed: DevSeed, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": seed.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": "st-42",
        "nonce": "nonce-42",
        "login_hint": "jane@example.com",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize(http: TestClient, params: dict[str, Any] | list[tuple[str, str]]) -> Any:
    return http.get("/oauth/authorize?" + urlencode(params))


def count(rt: Runtime, table: Any) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- never redirected ---------------------------------------------------------------------------------


def _page_cases(seed: DevSeed) -> dict[str, tuple[list[tuple[str, str]], str]]:
    good = list(base_params(seed).items())
    without = lambda name: [(k, v) for k, v in good if k != name]  # noqa: E731
    return {
        "unknown client": ([*without("client_id"), ("client_id", "skc_doesnotexist")], "invalid_client"),
        "malformed client": ([*without("client_id"), ("client_id", "not-a-client")], "invalid_client"),
        "missing client": (without("client_id"), "invalid_request"),
        "repeated client": ([*good, ("client_id", seed.client_id)], "invalid_request"),
        "missing redirect": (without("redirect_uri"), "invalid_request"),
        "repeated redirect": ([*good, ("redirect_uri", CALLBACK)], "invalid_request"),
        "unregistered redirect": (
            [*without("redirect_uri"), ("redirect_uri", "https://evil.example/callback")],
            "invalid_redirect_uri",
        ),
        "prefix of registered redirect": (
            [*without("redirect_uri"), ("redirect_uri", CALLBACK + "/more")],
            "invalid_redirect_uri",
        ),
        "redirect with other case": (
            [*without("redirect_uri"), ("redirect_uri", CALLBACK.replace("callback", "Callback"))],
            "invalid_redirect_uri",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown client",
        "malformed client",
        "missing client",
        "repeated client",
        "missing redirect",
        "repeated redirect",
        "unregistered redirect",
        "prefix of registered redirect",
        "redirect with other case",
    ],
)
def test_untrusted_client_or_redirect_shows_an_error_page_and_never_redirects(
    http: TestClient, rt: Runtime, seed: DevSeed, case: str
) -> None:
    params, code = _page_cases(seed)[case]
    response = authorize(http, params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert code in response.text
    assert "evil.example" not in response.headers.get("location", "")
    assert count(rt, auth_requests) == 0
    with rt.engine.connect() as conn:
        events = conn.execute(select(auth_events)).all()
    assert [(e.status, e.step, e.error_code) for e in events] == [("FAILED", "authorize", code)]
    assert events[0].id in response.text


def test_a_client_of_another_environment_is_refused_on_a_page(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        _, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:9999", display_name="Other"
        )
    response = authorize(http, base_params(seed, client_id=other_client))
    assert response.status_code == 400 and "location" not in response.headers
    assert "invalid_client" in response.text


def test_an_api_client_cannot_start_a_login(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        api = credentials.create_api_client(rt, conn, seed.environment.id, "backend", ["*"])
    response = authorize(http, base_params(seed, client_id=api.id))
    assert response.status_code == 400 and "location" not in response.headers
    assert "invalid_client" in response.text


# --- redirected with a reference ----------------------------------------------------------------------


def _expect_error_redirect(response: Any, rt: Runtime, code: str, state: str | None = "st-42") -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    params = query(location)
    assert params["error"] == code
    if state is None:
        assert "state" not in params
    else:
        assert params["state"] == state
    reference = params["error_description"].rsplit("(reference ", 1)[1].rstrip(")")
    with rt.engine.connect() as conn:
        event = auth_log.get_event(conn, reference)
    assert event is not None
    assert (event.status, event.step, event.error_code) == ("FAILED", "authorize", code)
    assert count(rt, auth_requests) == 0
    return params


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "invalid_request"),
        ({"response_type": "code id_token"}, "invalid_request"),
        ({"scope": "profile email"}, "invalid_request"),
        ({"scope": "openid\x7f"}, "invalid_request"),
        ({"code_challenge": CHALLENGE, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": CHALLENGE}, "invalid_request"),
        ({"code_challenge": CHALLENGE, "code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": CHALLENGE[:-1] + "+", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"nonce": "n" * 513}, "invalid_request"),
        ({"login_hint": "jane@example.com\x00"}, "invalid_request"),
        ({"prompt": "none"}, "access_denied"),
        ({"login_hint": None}, "invalid_connection_selector"),
        ({"login_hint": "jane"}, "invalid_user_domain"),
        ({"login_hint": "jane@nowhere.example"}, "domain_not_found"),
        ({"domain": "nowhere.example"}, "domain_not_found"),
        ({"domain_hint": "nowhere.example"}, "domain_not_found"),
        ({"organization_id": "org_unknown"}, "invalid_organization_id"),
        ({"connection_id": "conn_unknown"}, "invalid_connection_id"),
    ],
)
def test_other_errors_redirect_to_the_app_with_state_and_a_reference(
    http: TestClient, rt: Runtime, seed: DevSeed, overrides: dict[str, Any], code: str
) -> None:
    response = authorize(http, base_params(seed, **overrides))
    _expect_error_redirect(response, rt, code)


def test_a_repeated_parameter_is_invalid_request(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    params = [*base_params(seed).items(), ("scope", "openid")]
    _expect_error_redirect(authorize(http, params), rt, "invalid_request")


def test_a_repeated_state_is_not_echoed(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    params = [*base_params(seed).items(), ("state", "second")]
    _expect_error_redirect(authorize(http, params), rt, "invalid_request", state=None)


def test_an_overlong_state_is_refused_and_not_echoed(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    response = authorize(http, base_params(seed, state="s" * 2049))
    _expect_error_redirect(response, rt, "invalid_request", state=None)


def test_a_disabled_connection_and_an_organization_without_one(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(connections).where(connections.c.id == seed.connection_id).values(enabled=False))
    by_id = authorize(http, base_params(seed, connection_id=seed.connection_id))
    _expect_error_redirect(by_id, rt, "connection_not_active")
    by_org = authorize(http, base_params(seed, organization_id=seed.organization_id))
    _expect_error_redirect(by_org, rt, "no_active_connections")


def test_an_organization_of_another_environment_is_unknown_here(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        other, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:9999", display_name="Other"
        )
        now = rt.clock.now()
        org_id = new_id("org")
        conn.execute(
            insert(organizations).values(
                id=org_id,
                environment_id=other.id,
                display_name="Elsewhere",
                metadata={},
                create_time=now,
                update_time=now,
            )
        )
    response = authorize(http, base_params(seed, organization_id=org_id))
    _expect_error_redirect(response, rt, "invalid_organization_id")


def test_an_invalid_connection_id_never_falls_through_to_a_valid_login_hint(
    http: TestClient, rt: Runtime, seed: DevSeed
) -> None:
    response = authorize(http, base_params(seed, connection_id="conn_unknown", login_hint="jane@example.com"))
    _expect_error_redirect(response, rt, "invalid_connection_id")


def test_a_head_request_starts_no_login(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    # /oauth/authorize is a plain Starlette route (web/routing.py), which would answer HEAD like GET by default:
    # a link prefetcher's HEAD would then store an auth request and log a login step.
    response = http.head("/oauth/authorize?" + urlencode(base_params(seed)))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert count(rt, auth_requests) == 0
    assert count(rt, auth_events) == 0
