"""The SDK's login helpers against a real server: a full login through the IdP simulator, token validation,
IdP-initiated login and logout."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from entryway_sdk import (
    AsyncEntrywayClient,
    EntrywayClient,
    OAuthError,
    TokenValidationError,
)

from tests.sdk.conftest import CALLBACK, POST_LOGOUT, Live
from tests.sdk.simulated_browser import idp_initiated, query, sign_in

pytestmark = pytest.mark.e2e


def test_login_returns_the_profile_and_tokens(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    landed = query(sign_in(live.browser, login.url))
    assert landed["state"] == login.state
    result = live.client.authenticate_with_code(
        landed["code"], CALLBACK, code_verifier=login.code_verifier, nonce=login.nonce
    )
    assert result.user.email == "jane@example.com"
    assert (result.user.given_name, result.user.family_name) == ("Jane", "Doe")
    assert result.user.id.startswith(f"{live.seed.connection_id};")
    assert result.connection_id == live.seed.connection_id
    assert result.organization_id == live.seed.organization_id
    assert result.expires_in > 0
    assert result.user.identities[0].connection_type == "SAML"
    assert result.claims["nonce"] == login.nonce
    assert live.client.validate_access_token(result.access_token)
    assert live.client.validate_token(result.id_token, nonce=login.nonce)["email"] == "jane@example.com"


@pytest.mark.parametrize(
    "selector",
    [
        {"domain": "example.com"},
        {"domain_hint": "example.org"},
        {"organization_id": "ORG"},
        {"connection_id": "CONN"},
    ],
)
def test_every_selector_reaches_the_simulator(live: Live, selector: dict[str, str]) -> None:
    values = {"ORG": live.seed.organization_id, "CONN": live.seed.connection_id}
    chosen = {k: values.get(v, v) for k, v in selector.items()}
    login = live.client.create_authorization_request(CALLBACK, **chosen)
    landed = query(sign_in(live.browser, login.url, "ann@example.com"))
    result = live.client.authenticate_with_code(landed["code"], CALLBACK, code_verifier=login.code_verifier)
    assert result.user.email == "ann@example.com"


def test_a_wrong_nonce_is_refused(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    landed = query(sign_in(live.browser, login.url))
    with pytest.raises(TokenValidationError, match="nonce"):
        live.client.authenticate_with_code(landed["code"], CALLBACK, code_verifier=login.code_verifier, nonce="other")


def test_a_reused_code_is_an_oauth_error_and_revokes_the_access_token(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    first = live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    with pytest.raises(OAuthError) as caught:
        live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    assert caught.value.error == "invalid_grant"
    assert caught.value.status == 400
    # the signature still verifies offline; revocation is seen by /userinfo
    assert (
        live.browser.get(f"{live.base}/userinfo", headers={"authorization": f"Bearer {first.access_token}"}).status_code
        == 401
    )


def test_a_wrong_pkce_verifier_is_refused(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    with pytest.raises(OAuthError) as caught:
        live.client.authenticate_with_code(code, CALLBACK, code_verifier="x" * 64)
    assert caught.value.error == "invalid_grant"


def test_a_wrong_secret_is_invalid_client(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    with EntrywayClient(live.base, live.seed.client_id, "ews_wrong") as wrong, pytest.raises(OAuthError) as caught:
        wrong.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    assert (caught.value.status, caught.value.error) == (401, "invalid_client")


def test_tokens_for_another_audience_or_tampered_are_refused(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    result = live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    assert not live.client.validate_access_token(result.access_token, audience="skc_someone_else")
    tampered = result.access_token[:-4] + ("AAAA" if not result.access_token.endswith("AAAA") else "BBBB")
    assert not live.client.validate_access_token(tampered)


def test_the_jwks_is_fetched_once_and_cached(live: Live) -> None:
    fetched: list[str] = []
    http = httpx.Client(timeout=10, event_hooks={"request": [lambda r: fetched.append(r.url.path)]})
    with EntrywayClient(live.base, live.seed.client_id, live.secret, http_client=http) as counted:
        login = counted.create_authorization_request(CALLBACK, login_hint="jane@example.com")
        code = query(sign_in(live.browser, login.url))["code"]
        result = counted.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
        for _ in range(3):
            assert counted.validate_access_token(result.access_token)
    assert fetched.count("/keys") == 1


def test_idp_initiated_login_claims_then_a_normal_login(live: Live) -> None:
    landed = idp_initiated(live.browser, live.base, live.seed.connection_id, "ida@example.com")
    assert landed.startswith(CALLBACK + "?")
    claims = live.client.get_idp_initiated_login_claims(query(landed)["idp_initiated_login"])
    assert claims.connection_id == live.seed.connection_id
    assert claims.organization_id == live.seed.organization_id
    assert claims.login_hint == "ida@example.com"
    login = live.client.create_authorization_request(
        CALLBACK, connection_id=claims.connection_id, login_hint=claims.login_hint
    )
    code = query(sign_in(live.browser, login.url, "ida@example.com"))["code"]
    assert live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier).user.email == (
        "ida@example.com"
    )


def test_an_id_token_is_not_an_idp_initiated_login_token(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    result = live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    with pytest.raises(TokenValidationError, match="connection_id"):
        live.client.get_idp_initiated_login_claims(result.id_token)


def test_logout_url_redirects_to_the_registered_page(live: Live) -> None:
    login = live.client.create_authorization_request(CALLBACK, login_hint="jane@example.com")
    code = query(sign_in(live.browser, login.url))["code"]
    result = live.client.authenticate_with_code(code, CALLBACK, code_verifier=login.code_verifier)
    url = live.client.get_logout_url(id_token_hint=result.id_token, post_logout_redirect_uri=POST_LOGOUT, state="bye")
    response = live.browser.get(url)
    assert response.status_code == 302
    assert response.headers["location"] == POST_LOGOUT + "?state=bye"


def test_the_async_client_logs_in(live: Live) -> None:
    async def scenario() -> tuple[str | None, bool]:
        async with AsyncEntrywayClient(live.base, live.seed.client_id, live.secret) as client:
            login = client.create_authorization_request(CALLBACK, domain="example.com")
            code = query(await asyncio.to_thread(sign_in, live.browser, login.url))["code"]
            result = await client.authenticate_with_code(
                code, CALLBACK, code_verifier=login.code_verifier, nonce=login.nonce
            )
            return result.user.email, await client.validate_access_token(result.access_token)

    assert asyncio.run(scenario()) == ("jane@example.com", True)
