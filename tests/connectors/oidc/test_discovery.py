"""Enabling an OIDC connection reads the IdP's discovery document: every way it can be wrong is a clear 400
(never a 500), and the connection stays disabled."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from entryway.connectors.oidc import fetch
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import connections as connection_service
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import Provider
from tests.connectors.oidc.support import make_connection


def enable_error(rt: Runtime, seed: DevSeed, op: Provider, **config: object) -> ApiError:
    conn = make_connection(rt, seed, op, enable=False, **config)
    with pytest.raises(ApiError) as caught, rt.engine.begin() as db:
        connection_service.set_enabled(rt, db, seed.environment, conn.id, True)
    assert caught.value.status == 400
    with rt.engine.connect() as db:
        assert connection_service.get_connection(db, seed.environment.id, conn.id).enabled is False
    return caught.value


def test_a_good_discovery_document_enables(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    assert make_connection(ort, seed, op).enabled is True


def test_html_instead_of_json(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (200, "text/html", b"<!doctype html><html><body>Sign in</body></html>")
    error = enable_error(ort, seed, op)
    assert "JSON" in error.message
    assert error.violations[0].field == "oidc_config.issuer"


def test_json_that_is_not_an_object(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (200, "application/json", b"[1, 2]")
    assert "JSON object" in enable_error(ort, seed, op).message


def test_an_error_status(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (500, "application/json", b"{}")
    assert "HTTP 500" in enable_error(ort, seed, op).message


def test_a_document_too_large(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    body = json.dumps({"issuer": op.issuer, "padding": "x" * (fetch.MAX_BYTES + 1)}).encode()
    op.discovery_override = (200, "application/json", body)
    assert "too large" in enable_error(ort, seed, op).message


def test_another_issuer(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    op.discovery_extra = {"issuer": "https://login.other.example"}
    assert "another issuer" in enable_error(ort, seed, op).message


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"])
def test_missing_endpoints(ort: Runtime, seed: DevSeed, op: Provider, endpoint: str) -> None:
    op.discovery_drop = (endpoint,)
    assert endpoint in enable_error(ort, seed, op).message


def test_an_endpoint_that_is_not_a_url(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    op.discovery_extra = {"token_endpoint": "javascript:alert(1)"}
    assert "token_endpoint" in enable_error(ort, seed, op).message


def test_an_unreachable_idp(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert "could not be reached" in enable_error(ort, seed, op, issuer=closed).message


def test_a_slow_idp_times_out(ort: Runtime, seed: DevSeed, op: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "TIMEOUT", httpx.Timeout(0.3))
    op.delay["/.well-known/openid-configuration"] = 1.0
    assert "in time" in enable_error(ort, seed, op).message


def test_private_addresses_are_refused_unless_allowed(rt: Runtime, op: Provider) -> None:
    from entryway.services.bootstrap import seed_development
    from tests.connectors.oidc.support import CALLBACK, ENV_URL

    assert rt.settings.allow_private_fetch is False
    seed = seed_development(rt, ENV_URL, CALLBACK)
    error = enable_error(rt, seed, op)
    assert "private address" in error.message and "ENTRYWAY_ALLOW_PRIVATE_FETCH" in error.message
    assert op.requests == []


def test_incomplete_configuration_lists_what_is_missing(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    error = enable_error(ort, seed, op, client_secret=None, issuer=None)
    assert {v.field for v in error.violations} == {"oidc_config.client_secret", "oidc_config.issuer"}
    assert op.requests == []
