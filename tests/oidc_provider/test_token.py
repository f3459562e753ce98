"""/oauth/token: client authentication, code bindings (client, redirect_uri, PKCE, expiry), single use with
revocation, client credentials and error shapes."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.datastructures import FormData, Headers

from entryway.clock import FrozenClock
from entryway.model.environments import EnvironmentType
from entryway.model.errors import OAuthError
from entryway.model.scopes import MANAGEMENT_SCOPES
from entryway.oidc_provider import codes, token
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import auth_codes, auth_events, revoked_tokens
from tests.oidc_provider.support import CALLBACK, CHALLENGE, VERIFIER, code_form, issue_code
from tests.support.login_counts import counted, logged


@pytest.fixture
def clock() -> FrozenClock:
    # JWT libraries check exp/iat against the real time, so the frozen clock starts at the real now.
    return FrozenClock(datetime.now(UTC))


def post(http: TestClient, form: dict[str, Any] | list[tuple[str, str]], **headers: str) -> Any:
    if isinstance(form, list):  # repeated names: encode by hand
        headers["content-type"] = "application/x-www-form-urlencoded"
        return http.post("/oauth/token", content=urlencode(form), headers=headers)
    return http.post("/oauth/token", data=form, headers=headers)


def expect_error(response: Any, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


def unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# --- client authentication ----------------------------------------------------------------------------


def test_client_secret_post_with_extra_sdk_headers(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    response = post(
        http,
        code_form(seed, code),
        authorization="Bearer some.previous.token",
        **{"x-api-version": "20240430", "x-sdk-version": "python-2.0.0"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "id_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86399
    assert response.headers["cache-control"] == "no-store"


def test_client_secret_basic(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    assert seed.plain_secret is not None
    code = issue_code(rt, seed)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = post(http, form, authorization=basic(seed.client_id, seed.plain_secret))
    assert response.status_code == 200, response.text
    assert unverified(response.json()["id_token"])["aud"] == [seed.client_id]


def test_basic_with_the_same_client_id_in_the_body_is_accepted(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    assert seed.plain_secret is not None
    code = issue_code(rt, seed)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": seed.client_id}
    assert post(http, form, authorization=basic(seed.client_id, seed.plain_secret)).status_code == 200


def test_both_methods_at_once_is_invalid_request(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    assert seed.plain_secret is not None
    code = issue_code(rt, seed)
    response = post(http, code_form(seed, code), authorization=basic(seed.client_id, seed.plain_secret))
    expect_error(response, "invalid_request")


@pytest.mark.parametrize("how", ["wrong secret", "no secret", "unknown client", "basic wrong secret", "bad basic"])
def test_failed_client_authentication_is_401_and_leaves_the_code_usable(
    http: TestClient, rt: Runtime, seed: DevSeed, how: str
) -> None:
    code = issue_code(rt, seed)
    form = code_form(seed, code)
    headers: dict[str, str] = {}
    if how == "wrong secret":
        form["client_secret"] = "ews_wrong"
    elif how == "no secret":
        del form["client_secret"]
    elif how == "unknown client":
        form["client_id"] = "skc_0000000000unknown"
    elif how == "basic wrong secret":
        del form["client_id"], form["client_secret"]
        headers["authorization"] = basic(seed.client_id, "ews_wrong")
    else:
        del form["client_id"], form["client_secret"]
        headers["authorization"] = "Basic !!!not-base64"
    response = post(http, form, **headers)
    expect_error(response, "invalid_client", 401)
    assert post(http, code_form(seed, code)).status_code == 200


def test_a_client_of_another_environment_cannot_authenticate_here(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        _, other_id = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://127.0.0.1:9999", display_name="Other"
        )
        other = credentials.get_client(conn, other_id)
        assert other is not None
        secret, _ = credentials.create_secret(rt, conn, other)
    code = issue_code(rt, seed)
    response = post(http, {**code_form(seed, code), "client_id": other_id, "client_secret": secret})
    expect_error(response, "invalid_client", 401)


# --- code bindings ------------------------------------------------------------------------------------


def test_pkce_right_verifier(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed, code_challenge=CHALLENGE)
    assert post(http, code_form(seed, code, code_verifier=VERIFIER)).status_code == 200


@pytest.mark.parametrize(
    ("verifier", "error"),
    [
        (None, "invalid_grant"),
        ("x" * 43, "invalid_grant"),
        (VERIFIER[:-1] + "Y", "invalid_grant"),
        ("too-short", "invalid_request"),
        (VERIFIER + " ", "invalid_request"),
    ],
)
def test_pkce_wrong_or_missing_verifier(
    http: TestClient, rt: Runtime, seed: DevSeed, verifier: str | None, error: str
) -> None:
    code = issue_code(rt, seed, code_challenge=CHALLENGE)
    form = code_form(seed, code) if verifier is None else code_form(seed, code, code_verifier=verifier)
    expect_error(post(http, form), error)
    # a failed attempt does not use the code up
    assert post(http, code_form(seed, code, code_verifier=VERIFIER)).status_code == 200


def test_a_verifier_without_a_challenge_is_refused(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    expect_error(post(http, code_form(seed, code, code_verifier=VERIFIER)), "invalid_grant")


def test_the_redirect_uri_must_be_exactly_the_authorize_one(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    for other in (CALLBACK + "/", CALLBACK.upper(), "http://localhost:3000/other"):
        expect_error(post(http, {**code_form(seed, code), "redirect_uri": other}), "invalid_grant")
    form = code_form(seed, code)
    del form["redirect_uri"]
    expect_error(post(http, form), "invalid_request")


def test_an_expired_code(http: TestClient, rt: Runtime, seed: DevSeed, clock: FrozenClock) -> None:
    code = issue_code(rt, seed)
    clock.advance(seconds=rt.settings.code_ttl_seconds)
    expect_error(post(http, code_form(seed, code)), "invalid_grant")


def test_a_code_issued_to_another_client(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        api = credentials.create_api_client(rt, conn, seed.environment.id, "backend", ["*"])
    code = issue_code(rt, seed, client_id=api.id)
    expect_error(post(http, code_form(seed, code)), "invalid_grant")


def test_an_unknown_code(http: TestClient, seed: DevSeed) -> None:
    expect_error(post(http, code_form(seed, "not-a-code")), "invalid_grant")


def test_an_api_client_may_not_redeem_login_codes(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        api = credentials.create_api_client(rt, conn, seed.environment.id, "backend", ["*"])
        secret, _ = credentials.create_secret(rt, conn, api)
    code = issue_code(rt, seed, client_id=api.id)
    response = post(http, {**code_form(seed, code), "client_id": api.id, "client_secret": secret})
    expect_error(response, "unauthorized_client")


def test_a_reused_code_fails_and_revokes_the_first_access_token(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    first = post(http, code_form(seed, code))
    assert first.status_code == 200
    access = first.json()["access_token"]
    before = http.get("/userinfo", headers={"authorization": f"Bearer {access}"})
    assert before.status_code == 200

    expect_error(post(http, code_form(seed, code)), "invalid_grant")

    after = http.get("/userinfo", headers={"authorization": f"Bearer {access}"})
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    jti = unverified(access)["jti"]
    with rt.engine.connect() as conn:
        (revoked,) = conn.execute(select(revoked_tokens)).all()
        (used,) = conn.execute(select(auth_codes.c.issued_jti, auth_codes.c.used_time)).all()
        events = conn.execute(select(auth_events.c.step, auth_events.c.error_code)).all()
    assert revoked.jti == jti and revoked.reason == "code_reuse"
    assert used.issued_jti == jti and used.used_time is not None
    assert ("token", "invalid_grant") in [tuple(e) for e in events]
    # a third use is refused the same way and revokes nothing new
    expect_error(post(http, code_form(seed, code)), "invalid_grant")
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(revoked_tokens)).all()) == 1


# --- request shape ------------------------------------------------------------------------------------


def test_request_shape_errors(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    expect_error(post(http, {**code_form(seed, code), "grant_type": "password"}), "unsupported_grant_type")
    form = code_form(seed, code)
    del form["grant_type"]
    expect_error(post(http, form), "invalid_request")
    form = code_form(seed, code)
    del form["code"]
    expect_error(post(http, form), "invalid_request")
    repeated = [*code_form(seed, code).items(), ("code", code)]
    expect_error(post(http, repeated), "invalid_request")
    as_json = http.post("/oauth/token", json=code_form(seed, code))
    expect_error(as_json, "invalid_request")
    # none of that used the code
    assert post(http, code_form(seed, code)).status_code == 200


# --- client credentials -------------------------------------------------------------------------------


def cc_form(client_id: str, secret: str | None, **extra: str) -> dict[str, Any]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}


def test_client_credentials_for_the_app_client_grants_every_management_scope(
    http: TestClient, rt: Runtime, seed: DevSeed
) -> None:
    response = post(http, cc_form(seed.client_id, seed.plain_secret))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86399
    assert body["scope"].split(" ") == list(MANAGEMENT_SCOPES)
    claims = unverified(body["access_token"])
    assert claims["scopes"] == list(MANAGEMENT_SCOPES)
    assert claims["client_id"] == seed.client_id and claims["aud"] == [seed.client_id]
    assert claims["exp"] - claims["iat"] == 86399
    assert {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scopes"} == set(claims)


def test_client_credentials_narrowed_and_too_wide(http: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        api = credentials.create_api_client(
            rt, conn, seed.environment.id, "reader", ["organizations:read", "connections:read"]
        )
        secret, _ = credentials.create_secret(rt, conn, api)
    whole = post(http, cc_form(api.id, secret))
    assert whole.json()["scope"] == "organizations:read connections:read"
    narrow = post(http, cc_form(api.id, secret, scope="connections:read"))
    assert narrow.status_code == 200
    assert unverified(narrow.json()["access_token"])["scopes"] == ["connections:read"]
    expect_error(post(http, cc_form(api.id, secret, scope="connections:read connections:write")), "invalid_scope")
    expect_error(post(http, cc_form(api.id, secret, scope="openid")), "invalid_scope")
    expect_error(post(http, cc_form(seed.client_id, seed.plain_secret, scope="everything:admin")), "invalid_scope")


def test_a_client_credentials_token_is_not_a_user_token(http: TestClient, seed: DevSeed) -> None:
    token = post(http, cc_form(seed.client_id, seed.plain_secret)).json()["access_token"]
    response = http.get("/userinfo", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_concurrent_redemptions_of_one_code_issue_once_and_revoke_it(rt: Runtime, seed: DevSeed) -> None:
    code = issue_code(rt, seed)
    form = FormData(list(code_form(seed, code).items()))
    start = threading.Barrier(4)

    def attempt(_: int) -> dict[str, Any] | str:
        start.wait()
        try:
            return token.exchange(rt, seed.environment, Headers({}), form)
        except OAuthError as exc:
            return exc.error

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    issued = [o for o in outcomes if isinstance(o, dict)]
    assert len(issued) == 1
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["invalid_grant"] * 3
    with rt.engine.connect() as conn:
        revoked = {r.jti for r in conn.execute(select(revoked_tokens.c.jti))}
    assert revoked == {unverified(issued[0]["access_token"])["jti"]}
    # One success and three second uses, as the auth log holds them: a loser's SUCCESS row is never stored.
    assert counted(rt) == logged(rt, seed.environment.id)


def test_a_redemption_that_lost_the_race_is_counted_once_as_its_failure(
    http: TestClient, rt: Runtime, seed: DevSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser reads the code while it is unused, then another request redeems it before the loser's write batch
    is sent: the loser's guard matches nothing, so its SUCCESS row (given after the guard) is neither stored nor
    counted, and its second use is counted once, by the auth log, not again by the token endpoint."""
    code = issue_code(rt, seed)
    form = FormData(list(code_form(seed, code).items()))
    check_bindings = codes.check_bindings
    winner: list[dict[str, Any]] = []
    raced = False

    def redeemed_meanwhile(grant: codes.CodeGrant, **bindings: Any) -> None:
        nonlocal raced
        check_bindings(grant, **bindings)
        if not raced:  # the loser, between its read of the code and its write: the winner's whole exchange
            raced = True
            winner.append(token.exchange(rt, seed.environment, Headers({}), form))

    monkeypatch.setattr(codes, "check_bindings", redeemed_meanwhile)
    expect_error(post(http, code_form(seed, code)), "invalid_grant")
    assert "access_token" in winner[0]

    with rt.engine.connect() as conn:
        token_steps = conn.execute(select(auth_events.c.status).where(auth_events.c.step == "token")).scalars().all()
    assert sorted(token_steps) == ["FAILED", "SUCCESS"]
    tally = counted(rt)
    assert (tally[("SUCCESS", "", "token")], tally[("FAILED", "invalid_grant", "token")]) == (1, 1)
    assert tally == logged(rt, seed.environment.id)
