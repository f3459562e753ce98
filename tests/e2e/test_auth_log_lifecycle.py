"""The auth log follows a real login over HTTP: INITIATED at authorize, PENDING when the IdP's response is
accepted, SUCCESS when the app exchanges the code; a failed exchange is FAILED with its diagnosis."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.store.tables import auth_events
from tests.e2e.test_login_flow import Live, pkce_pair, post_to_acs, redeem, simulate, start
from tests.e2e.test_login_flow import live as live  # the fixture, shared with the login flow tests

pytestmark = pytest.mark.e2e


def _steps(rt: Runtime, live: Live, auth_request_id: str) -> list[tuple[str, str, str | None]]:
    with rt.engine.connect() as conn:
        events = auth_log.request_events(conn, live.seed.environment.id, auth_request_id)
    return [(e.status, e.step, e.error_code) for e in events]


def _only_request_id(rt: Runtime, live: Live) -> str:
    with rt.engine.connect() as conn:
        ids = {r.auth_request_id for r in conn.execute(select(auth_events.c.auth_request_id)).all()}
    ids.discard(None)
    assert len(ids) == 1, ids
    return ids.pop()


def test_a_login_is_initiated_then_pending_then_successful(rt: Runtime, live: Live) -> None:
    verifier, challenge = pkce_pair()
    sso = start(live, challenge, secrets.token_urlsafe(8), secrets.token_urlsafe(8))
    request_id = _only_request_id(rt, live)
    assert _steps(rt, live, request_id) == [("INITIATED", "authorize", None)]

    callback = post_to_acs(live, simulate(live, sso))
    assert _steps(rt, live, request_id) == [("INITIATED", "authorize", None), ("PENDING", "callback", None)]

    assert redeem(live, callback["code"], verifier).status_code == 200
    assert _steps(rt, live, request_id) == [
        ("INITIATED", "authorize", None),
        ("PENDING", "callback", None),
        ("SUCCESS", "token", None),
    ]
    with rt.engine.connect() as conn:
        events = auth_log.request_events(conn, live.seed.environment.id, request_id)
    assert {e.email for e in events} == {"jane@example.com"}
    assert {(e.organization_id, e.connection_id) for e in events} == {
        (live.seed.organization_id, live.seed.connection_id)
    }


def test_a_failed_code_exchange_is_recorded_and_the_right_one_still_succeeds(rt: Runtime, live: Live) -> None:
    verifier, challenge = pkce_pair()
    sso = start(live, challenge, "s", "n")
    callback = post_to_acs(live, simulate(live, sso))
    request_id = _only_request_id(rt, live)

    wrong, _ = pkce_pair()
    refused = redeem(live, callback["code"], wrong)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert _steps(rt, live, request_id)[-1] == ("FAILED", "token", "invalid_grant")
    with rt.engine.connect() as conn:
        failure = auth_log.request_events(conn, live.seed.environment.id, request_id)[-1]
    assert failure.id.startswith("err_")
    assert "code_verifier" in failure.diagnosis["got"]

    assert redeem(live, callback["code"], verifier).status_code == 200
    assert _steps(rt, live, request_id)[-1] == ("SUCCESS", "token", None)


def test_a_refused_idp_login_is_failed_with_the_reason(rt: Runtime, live: Live) -> None:
    _, challenge = pkce_pair()
    sso = start(live, challenge, "s", "n")
    request_id = _only_request_id(rt, live)
    answer = simulate(live, sso, outcome="error")
    response = live.http.post(
        answer["acs_url"], data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]}
    )
    assert response.status_code == 302 and "error=" in response.headers["location"]
    status, step, code = _steps(rt, live, request_id)[-1]
    assert (status, step) == ("FAILED", "callback") and code
