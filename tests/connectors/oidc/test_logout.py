"""Logout through an OIDC connection ends the IdP's session first (its end_session_endpoint), then comes back
to finish the app's logout at its registered post-logout URL with its state."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import httpx
import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from entryway.clock import FrozenClock
from entryway.connectors.oidc.upstream_tokens import take_id_token
from entryway.jobs.login_state import purge_expired_login_state
from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import upstream_id_tokens
from tests.api.checks import dump
from tests.connectors.oidc.provider import CLIENT_ID, Provider, running_provider
from tests.connectors.oidc.support import ENV_URL, app_result, login, make_connection, query, redeem

AFTER = "http://localhost:3000/signed-out"


def id_token_after_login(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, connection_id: str) -> str:
    registered = environments.cached_redirect_uris(ort, seed.environment.id, RedirectKind.POST_LOGOUT)
    if not any(r.uri == AFTER for r in registered):
        with ort.engine.begin() as db:
            environments.add_redirect_uri(ort, db, seed.environment, RedirectKind.POST_LOGOUT, AFTER)
    code = app_result(login(http, seed, op, connection_id))["code"]
    return str(redeem(http, seed, code)["id_token"])


def logout(http: TestClient, id_token: str, state: str = "bye-1") -> str:
    response = http.get(
        "/oidc/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": AFTER, "state": state}
    )
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def test_the_idp_session_is_ended_and_the_browser_comes_back(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    to_idp = logout(http, id_token)
    assert to_idp.startswith(f"{op.base}/logout?")
    sent = query(to_idp)
    assert sent["client_id"] == CLIENT_ID
    assert sent["post_logout_redirect_uri"] == f"{ENV_URL}/sso/v1/oidc/{conn.id}/logout"
    assert jwt.get_unverified_header(sent["state"])["typ"] == "logout+jwt"  # signed, short-lived, for the landing
    # the IdP's own ID token of this login, as id_token_hint (Okta requires it)
    hint = jwt.decode(sent["id_token_hint"], op.rsa_key.public_key(), algorithms=["RS256"], audience=CLIENT_ID)
    assert hint["iss"] == op.issuer and hint["sub"] == "00u-jane"
    # The IdP ends its session and redirects to the landing, which finishes the app's logout.
    back = httpx.get(to_idp, follow_redirects=False)
    assert op.logouts and back.status_code == 302
    landing = str(back.headers["location"]).removeprefix(ENV_URL)
    finished = http.get(landing)
    assert finished.status_code == 302 and finished.headers["location"] == f"{AFTER}?state=bye-1"


def test_a_forged_or_foreign_landing_state_is_refused(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    carried = query(logout(http, id_token))["state"]
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout?" + urlencode({"state": carried})).status_code == 302
    # The ID token itself (signed by the same key) is not a logout state: wrong audience.
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout?" + urlencode({"state": id_token})).status_code == 400
    assert http.get(f"/sso/v1/oidc/{conn.id}/logout").status_code == 400
    with running_provider() as other_op:
        other = make_connection(ort, seed, other_op)
        assert http.get(f"/sso/v1/oidc/{other.id}/logout?" + urlencode({"state": carried})).status_code == 400


def test_an_idp_without_end_session_endpoint_logs_out_locally(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.discovery_drop = ("end_session_endpoint",)
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    assert logout(http, id_token) == f"{AFTER}?state=bye-1"
    assert op.logouts == []


def kept_tokens(ort: Runtime) -> list[dict[str, object]]:
    with ort.engine.connect() as db:
        return [dict(r._mapping) for r in db.execute(select(upstream_id_tokens))]


def test_the_idp_id_token_is_sealed_used_once_and_bounded_in_time(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient, frozen: FrozenClock
) -> None:
    conn = make_connection(ort, seed, op)
    id_token = id_token_after_login(ort, seed, op, http, conn.id)
    [row] = kept_tokens(ort)
    assert row["session_id"] == jwt.decode(id_token, options={"verify_signature": False})["sid"]
    assert row["connection_id"] == conn.id
    assert b"eyJ" not in row["sealed_id_token"] and op.issuer.encode() not in row["sealed_id_token"]  # sealed
    assert "eyJ" not in str(dump(ort.engine)["upstream_id_tokens"]).replace(repr(row["session_id"]), "")
    assert "id_token_hint" in query(logout(http, id_token))
    assert kept_tokens(ort) == []  # deleted once used
    assert "id_token_hint" not in query(logout(http, id_token))  # a second logout goes without it
    # A kept token past its lifetime is never sent, and expired ones go with the scheduled purge.
    ort.settings = replace(ort.settings, upstream_id_token_ttl_seconds=60)
    later = id_token_after_login(ort, seed, op, http, conn.id)
    frozen.advance(seconds=61)
    assert "id_token_hint" not in query(logout(http, later))
    third = id_token_after_login(ort, seed, op, http, conn.id)
    frozen.advance(seconds=61)
    id_token_after_login(ort, seed, op, http, conn.id)
    assert purge_expired_login_state(ort) >= 1  # the scheduled job (jobs/login_state.py)
    sessions = [r["session_id"] for r in kept_tokens(ort)]
    assert jwt.decode(third, options={"verify_signature": False})["sid"] not in sessions and len(sessions) == 1


def test_a_hint_from_another_connection_takes_no_token(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    id_token_after_login(ort, seed, op, http, conn.id)
    [row] = kept_tokens(ort)
    other = take_id_token(
        ort, env_id=seed.environment.id, connection_id="conn_other", session_id=str(row["session_id"])
    )
    assert other is None
    assert len(kept_tokens(ort)) == 1


def test_nothing_is_kept_for_an_idp_without_end_session_endpoint(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.discovery_drop = ("end_session_endpoint",)
    conn = make_connection(ort, seed, op)
    id_token_after_login(ort, seed, op, http, conn.id)
    assert kept_tokens(ort) == []
