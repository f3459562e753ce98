"""/oidc/logout: only registered post-logout URLs are redirected to; everything else is a page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.oidc_provider import access_tokens, signing
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from tests.oidc_provider.support import ENV_URL, code_form, issue_code, query

BYE = "http://localhost:3000/signed-out"


@pytest.fixture
def registered(rt: Runtime, seed: DevSeed) -> str:
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, seed.environment, RedirectKind.POST_LOGOUT, BYE)
    return BYE


def id_token(http: TestClient, rt: Runtime, seed: DevSeed) -> str:
    response = http.post("/oauth/token", data=code_form(seed, issue_code(rt, seed)))
    return str(response.json()["id_token"])


def logout(http: TestClient, **params: Any) -> Any:
    return http.get("/oidc/logout", params=params)


def test_without_a_redirect_a_signed_out_page(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    for response in (logout(http), logout(http, id_token_hint=id_token(http, rt, seed))):
        assert response.status_code == 200
        assert "location" not in response.headers
        assert "You are signed out" in response.text


def test_a_registered_post_logout_url_is_redirected_to_with_state(
    http: TestClient, rt: Runtime, seed: DevSeed, registered: str
) -> None:
    hint = id_token(http, rt, seed)
    response = logout(http, id_token_hint=hint, post_logout_redirect_uri=registered, state="bye-1")
    assert response.status_code == 302
    assert response.headers["location"].startswith(registered + "?")
    assert query(response.headers["location"]) == {"state": "bye-1"}
    without_state = logout(http, post_logout_redirect_uri=registered)
    assert without_state.status_code == 302 and without_state.headers["location"] == registered


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/bye",
        BYE + "/",
        BYE.upper(),
        "http://localhost:3000/callback",  # a callback URL is not a post-logout URL
    ],
)
def test_an_unregistered_post_logout_url_is_a_page_never_a_redirect(
    http: TestClient, registered: str, target: str
) -> None:
    response = logout(http, post_logout_redirect_uri=target, state="s")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_redirect_uri" in response.text


def test_an_expired_id_token_hint_is_accepted(http: TestClient, rt: Runtime, seed: DevSeed, registered: str) -> None:
    now = rt.clock.now() - timedelta(days=2)
    claims = {
        "iss": ENV_URL,
        "sub": "conn_x;u",
        "aud": [seed.client_id],
        "azp": seed.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    hint = signing.sign(rt, seed.environment, claims)
    response = logout(http, id_token_hint=hint, post_logout_redirect_uri=registered)
    assert response.status_code == 302


def test_bad_hints_are_refused_on_a_page(http: TestClient, rt: Runtime, seed: DevSeed, registered: str) -> None:
    with rt.engine.begin() as conn:
        other, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:9999", display_name="Other"
        )
    now = rt.clock.now()
    foreign = signing.sign(
        rt,
        other,
        {"iss": other.url, "sub": "s", "aud": [other_client], "azp": other_client, "iat": int(now.timestamp()),
         "exp": int(now.timestamp()) + 600},
    )  # fmt: skip
    access = access_tokens.mint(rt, seed.environment, client_id=seed.client_id, subject="s", ttl_seconds=60).token
    good = id_token(http, rt, seed)
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for hint in ("garbage", foreign, access, tampered):
        response = logout(http, id_token_hint=hint, post_logout_redirect_uri=registered)
        assert response.status_code == 400, hint
        assert "location" not in response.headers
    wrong_client = logout(http, id_token_hint=good, client_id="skc_someoneelse", post_logout_redirect_uri=registered)
    assert wrong_client.status_code == 400


def test_repeated_parameters_are_refused(http: TestClient, registered: str) -> None:
    response = http.get(f"/oidc/logout?post_logout_redirect_uri={registered}&post_logout_redirect_uri={registered}")
    assert response.status_code == 400 and "location" not in response.headers
