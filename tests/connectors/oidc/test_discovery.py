"""An OIDC connection's IdP is read when its settings are saved (create, or a PATCH of its URLs), when it is
enabled, and on request (`:check`): every way the discovery document or the JWKS can be wrong is a clear 400
(422 for `:check`) naming the field to fix with what was wanted and what was got, never a 500, and nothing
is stored. The IdP is read outside any database transaction."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from entryway.connectors.oidc import fetch
from entryway.runtime import Runtime
from entryway.services import connections as connection_service
from entryway.services.bootstrap import DevSeed
from tests.api.checks import dump
from tests.connectors.oidc.provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.connectors.oidc.support import make_connection


def url(seed: DevSeed, suffix: str = "") -> str:
    return f"/api/v1/organizations/{seed.organization_id}/connections{suffix}"


def body(op: Provider, **config: Any) -> dict[str, Any]:
    oidc = {"issuer": op.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **config}
    return {"type": "OIDC", "provider": "OKTA", "oidc_config": {k: v for k, v in oidc.items() if v is not None}}


def violation(response: httpx.Response, status: int = 400) -> dict[str, str]:
    assert response.status_code == status, response.text
    violations = response.json()["details"][0]["validation_error_info"]["field_violations"]
    assert len(violations) == 1, violations
    found: dict[str, str] = violations[0]
    return found


def save_error(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider, **config: Any) -> dict[str, str]:
    before = dump(ort.engine)
    found = violation(api.post(url(seed), json=body(op, **config)))
    assert dump(ort.engine) == before  # bad input changes nothing
    return found


def test_a_good_idp_saves_and_enables(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    made = api.post(url(seed), json=body(op))
    assert made.status_code == 201, made.text
    assert ("GET", "/.well-known/openid-configuration") in op.requests and ("GET", "/jwks") in op.requests
    cid = made.json()["connection"]["id"]
    enabled = api.patch(url(seed, f"/{cid}:enable"))
    assert enabled.status_code == 200 and enabled.json()["connection"]["enabled"] is True


def test_html_instead_of_json(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (200, "text/html", b"<!doctype html><html><body>Sign in</body></html>")
    found = save_error(ort, api, seed, op)
    assert found["field"] == "oidc_config.issuer"
    assert "did not answer with JSON" in found["description"]
    assert "wanted a JSON document, got an HTML page" in found["description"]


def test_json_that_is_not_an_object(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (200, "application/json", b"[1, 2]")
    assert "wanted a JSON object, got list" in save_error(ort, api, seed, op)["description"]


def test_an_error_status(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.discovery_override = (500, "application/json", b"{}")
    assert "wanted HTTP 200, got HTTP 500" in save_error(ort, api, seed, op)["description"]


def test_a_document_too_large(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    doc = json.dumps({"issuer": op.issuer, "padding": "x" * (fetch.MAX_BYTES + 1)}).encode()
    op.discovery_override = (200, "application/json", doc)
    assert "too large" in save_error(ort, api, seed, op)["description"]


def test_another_issuer(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.discovery_extra = {"issuer": "https://login.other.example"}
    found = save_error(ort, api, seed, op)
    assert "another issuer" in found["description"]
    assert f"wanted {op.issuer}, got https://login.other.example" in found["description"]


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"])
def test_missing_endpoints(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider, endpoint: str) -> None:
    op.discovery_drop = (endpoint,)
    found = save_error(ort, api, seed, op)
    assert endpoint in found["description"] and "got none" in found["description"]


def test_an_endpoint_that_is_not_a_url(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.discovery_extra = {"token_endpoint": "javascript:alert(1)"}
    assert "token_endpoint" in save_error(ort, api, seed, op)["description"]


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "end_session_endpoint"])
def test_an_endpoint_with_a_fragment(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider, endpoint: str) -> None:
    op.discovery_extra = {endpoint: f"{op.base}/authorize#start"}
    found = save_error(ort, api, seed, op)
    assert f"{endpoint} has a #fragment" in found["description"]
    assert f"got {op.base}/authorize#start" in found["description"]


def test_an_endpoint_with_user_information_is_refused_without_repeating_it(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    op.discovery_extra = {"authorization_endpoint": op.base.replace("://", "://admin:hunter2@") + "/authorize"}
    found = save_error(ort, api, seed, op)
    assert "authorization_endpoint has a user name or password" in found["description"]
    assert "hunter2" not in json.dumps(found)


def test_a_discovery_endpoint_is_named_when_it_is_the_source(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    op.discovery_override = (404, "text/plain", b"not found")
    found = save_error(ort, api, seed, op, discovery_endpoint=f"{op.base}/.well-known/openid-configuration")
    assert found["field"] == "oidc_config.discovery_endpoint"


def test_an_unreachable_idp(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    found = save_error(ort, api, seed, op, issuer=closed)
    assert "could not be reached" in found["description"]


def test_a_slow_idp_times_out(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "TIMEOUT", httpx.Timeout(0.3))
    op.delay["/.well-known/openid-configuration"] = 1.0
    assert "did not answer in time" in save_error(ort, api, seed, op)["description"]


def test_a_jwks_that_is_html(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.jwks_override = (200, "text/html", b"<html>login</html>")
    found = save_error(ort, api, seed, op)
    assert found["field"] == "oidc_config.issuer" and "JSON" in found["description"]


def test_a_jwks_without_usable_keys(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    op.published = [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]
    found = save_error(ort, api, seed, op)
    assert "no signing key" in found["description"]


def test_endpoints_typed_in_are_checked_through_their_jwks(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    manual = {"authorize_uri": f"{op.base}/authorize", "token_uri": f"{op.base}/token"}
    found = save_error(ort, api, seed, op, jwks_uri=f"{op.base}/nothing-here", **manual)
    assert found["field"] == "oidc_config.jwks_uri" and "HTTP 404" in found["description"]
    assert ("GET", "/.well-known/openid-configuration") not in op.requests  # typed in: no discovery
    assert api.post(url(seed), json=body(op, jwks_uri=f"{op.base}/jwks", **manual)).status_code == 201


def test_private_addresses_are_refused_unless_allowed(rt: Runtime, op: Provider) -> None:
    from tests.api.conftest import client_with, token_for
    from tests.connectors.oidc.support import CALLBACK, ENV_URL

    assert rt.settings.allow_private_fetch is False
    from entryway.services.bootstrap import seed_development

    seed = seed_development(rt, ENV_URL, CALLBACK)
    with client_with(rt, seed, token_for(rt, seed, ["*"])) as api:
        found = save_error(rt, api, seed, op)
    assert "private address" in found["description"] and "ENTRYWAY_ALLOW_PRIVATE_FETCH" in found["description"]
    assert op.requests == []


def test_the_idp_is_read_outside_any_transaction(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    open_connections: list[int] = []
    op.probe = lambda path: open_connections.append(ort.engine.pool.checkedout())  # type: ignore[attr-defined]
    assert api.post(url(seed), json=body(op)).status_code == 201
    assert open_connections and set(open_connections) == {0}, open_connections


def test_a_patch_of_the_issuer_is_checked_and_a_bad_one_changes_nothing(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    cid = api.post(url(seed), json=body(op)).json()["connection"]["id"]
    op.requests.clear()
    # what does not change where the IdP is read from is saved without asking it
    assert api.patch(url(seed, f"/{cid}"), json={"oidc_config": {"client_secret": "rotated"}}).status_code == 200
    assert op.requests == []
    before = dump(ort.engine)
    found = violation(api.patch(url(seed, f"/{cid}"), json={"oidc_config": {"issuer": op.base + "/other"}}))
    assert found["field"] == "oidc_config.issuer" and "HTTP 404" in found["description"]
    assert dump(ort.engine) == before
    # malformed URLs are field errors, all at once, without a fetch
    op.requests.clear()
    bad = api.patch(url(seed, f"/{cid}"), json={"oidc_config": {"issuer": "not a url", "jwks_uri": "ftp://x"}})
    assert bad.status_code == 400
    fields = {v["field"] for v in bad.json()["details"][0]["validation_error_info"]["field_violations"]}
    assert fields == {"oidc_config.issuer", "oidc_config.jwks_uri"} and op.requests == []


def test_a_draft_without_an_idp_saves_without_a_fetch_and_cannot_be_enabled(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    made = api.post(url(seed), json=body(op, issuer=None))
    assert made.status_code == 201 and op.requests == []
    cid = made.json()["connection"]["id"]
    assert made.json()["connection"]["missing_configuration"] == ["issuer"]
    assert violation(api.patch(url(seed, f"/{cid}:enable")))["field"] == "oidc_config.issuer"


def test_enabling_reads_the_idp_again(ort: Runtime, api: TestClient, seed: DevSeed, op: Provider) -> None:
    cid = api.post(url(seed), json=body(op)).json()["connection"]["id"]
    op.discovery_extra = {"issuer": "https://login.other.example"}  # the IdP changed since the save
    found = violation(api.patch(url(seed, f"/{cid}:enable")))
    assert found["field"] == "oidc_config.issuer" and "another issuer" in found["description"]
    with ort.engine.connect() as db:
        assert connection_service.get_connection(db, seed.environment.id, cid).enabled is False


def test_check_reports_what_logins_will_use_or_a_422(
    ort: Runtime, api: TestClient, seed: DevSeed, op: Provider
) -> None:
    cid = api.post(url(seed), json=body(op)).json()["connection"]["id"]
    checked = api.post(url(seed, f"/{cid}:check"))
    assert checked.status_code == 200, checked.text
    report = checked.json()["check"]
    assert report["issuer"] == op.issuer and report["token_endpoint"] == f"{op.base}/token"
    assert report["end_session_endpoint"] == f"{op.base}/logout" and report["signing_keys"] == 1
    op.delay["/.well-known/openid-configuration"] = 0
    op.discovery_override = (200, "text/html", b"<html>maintenance</html>")
    found = violation(api.post(url(seed, f"/{cid}:check")), 422)
    assert found["field"] == "oidc_config.issuer" and "got an HTML page" in found["description"]
    saml = api.post(url(seed), json={"type": "SAML", "provider": "OKTA"}).json()["connection"]["id"]
    assert violation(api.post(url(seed, f"/{saml}:check")), 422)["field"] == "type"
    assert api.post(url(seed, "/conn_nope:check")).status_code == 404


def test_incomplete_configuration_lists_what_is_missing(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    conn = make_connection(ort, seed, op, enable=False, client_secret=None, issuer=None)
    from entryway.model.errors import ApiError

    with pytest.raises(ApiError) as caught, ort.engine.begin() as db:
        connection_service.set_enabled(ort, db, seed.environment, conn.id, True)
    assert {v.field for v in caught.value.violations} == {"oidc_config.client_secret", "oidc_config.issuer"}
    assert op.requests == []
