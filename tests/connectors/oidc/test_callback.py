"""The redirect URI's own checks: the state binds the callback to one login on one connection (mix-up
defense), RFC 9207's iss parameter, replays, and input that names nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import Provider, running_provider
from tests.connectors.oidc.support import app_result, callback, last_failure, make_connection, start


def test_a_callback_on_another_connection_is_refused_before_any_exchange(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    first = make_connection(ort, seed, op)
    with running_provider() as other_op:
        second = make_connection(ort, seed, other_op)
        started = start(http, seed, first.id)
        code = op.grant(started.params)
        response = callback(http, second.id, code=code, state=started.params["state"])
        assert response.status_code == 400 and "invalid_request" in response.text
        assert other_op.token_requests == [] and op.token_requests == []
    failure = last_failure(ort)
    assert failure["diagnosis"] == {"wanted": first.id, "got": second.id}
    # The login itself is still pending on its own connection and can finish there.
    assert "code" in app_result(callback(http, first.id, code=code, state=started.params["state"]))


def test_an_unknown_or_missing_state_shows_an_error_page(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    for params in ({"code": "x", "state": "made-up"}, {"code": "x"}):
        response = callback(http, conn.id, **params)
        assert response.status_code == 400 and "authentication_not_completed" in response.text
    assert op.token_requests == []
    assert callback(http, "conn_nope", code="x", state="y").status_code == 400


def test_a_replayed_callback_is_refused_without_a_second_exchange(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    code = op.grant(started.params)
    assert "code" in app_result(callback(http, conn.id, code=code, state=started.params["state"]))
    again = app_result(callback(http, conn.id, code=code, state=started.params["state"]))
    assert again["error"] == "authentication_not_completed"
    assert len(op.token_requests) == 1


def test_the_iss_parameter_must_name_the_connections_issuer(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    code = op.grant(started.params)
    wrong = callback(http, conn.id, code=code, state=started.params["state"], iss="https://evil.example")
    assert app_result(wrong)["error"] == "invalid_request"
    assert op.token_requests == []
    started = start(http, seed, conn.id)
    code = op.grant(started.params)
    assert "code" in app_result(callback(http, conn.id, code=code, state=started.params["state"], iss=op.issuer))


def test_an_iss_parameter_promised_by_discovery_is_required(
    ort: Runtime, seed: DevSeed, op: Provider, http: TestClient
) -> None:
    op.discovery_extra = {"authorization_response_iss_parameter_supported": True}
    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    code = op.grant(started.params)
    assert app_result(callback(http, conn.id, code=code, state=started.params["state"]))["error"] == "invalid_request"


def test_a_disabled_connection_finishes_no_login(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    from entryway.services import connections as connection_service

    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    with ort.engine.begin() as db:
        connection_service.set_enabled(ort, db, seed.environment, conn.id, False)
    code = op.grant(started.params)
    assert app_result(callback(http, conn.id, code=code, state=started.params["state"]))["error"] == (
        "connection_not_active"
    )
    assert op.token_requests == []


def test_repeated_parameters_are_refused(ort: Runtime, seed: DevSeed, op: Provider, http: TestClient) -> None:
    conn = make_connection(ort, seed, op)
    started = start(http, seed, conn.id)
    response = http.get(
        f"/sso/v1/oidc/{conn.id}/callback", params=[("state", started.params["state"]), ("code", "a"), ("code", "b")]
    )
    assert response.status_code == 400 and "invalid_request" in response.text
