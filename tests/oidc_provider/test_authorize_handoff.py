"""/oauth/authorize success: the auth request it stores, and the hand-over to the connector (the SAML side)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import auth_requests, connections
from tests.oidc_provider.support import CALLBACK, CHALLENGE, query
from tests.oidc_provider.test_authorize import authorize, base_params

# --- success ------------------------------------------------------------------------------------------


def test_a_good_request_stores_the_auth_request_and_hands_over_to_the_connector(
    http: TestClient, rt: Runtime, seed: DevSeed
) -> None:
    response = authorize(
        http,
        base_params(seed, scope=None, code_challenge=CHALLENGE, code_challenge_method="S256"),
    )
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(f"{seed.environment.url}/sso/v1/simulator/{seed.connection_id}/sso?")
    params = query(location)
    assert "SAMLRequest" in params
    with rt.engine.connect() as conn:
        stored = logins.get_auth_request(conn, params["RelayState"])
    assert stored is not None
    assert stored.client_id == seed.client_id
    assert stored.redirect_uri == CALLBACK
    assert stored.scope == "openid profile email"  # the default when scope is absent
    assert (stored.state, stored.nonce) == ("st-42", "nonce-42")
    assert (stored.code_challenge, stored.code_challenge_method) == (CHALLENGE, "S256")
    assert (stored.connection_id, stored.organization_id) == (seed.connection_id, seed.organization_id)
    assert stored.login_hint == "jane@example.com"
    assert stored.status == "pending"
    assert stored.upstream_request_id is not None


@pytest.mark.parametrize(
    "selector",
    [
        {"connection_id": "CONN"},
        {"organization_id": "ORG", "login_hint": None},
        {"domain": "example.org", "login_hint": None},
        {"domain_hint": "EXAMPLE.COM", "login_hint": None},
        {"login_hint": "Jane.Doe@Example.COM"},
    ],
)
def test_every_selector_reaches_the_test_organization(
    http: TestClient, rt: Runtime, seed: DevSeed, selector: dict[str, Any]
) -> None:
    values = {
        k: (seed.connection_id if v == "CONN" else seed.organization_id if v == "ORG" else v)
        for k, v in selector.items()
    }
    response = authorize(http, base_params(seed, **values))
    assert response.status_code == 302, response.text
    with rt.engine.connect() as conn:
        (row,) = conn.execute(select(auth_requests)).all()
    assert row.connection_id == seed.connection_id


def test_a_connector_failure_after_the_request_is_stored_redirects_and_fails_the_request(
    http: TestClient, rt: Runtime, seed: DevSeed
) -> None:
    with rt.engine.begin() as conn:
        (config,) = conn.execute(select(connections.c.saml_config).where(connections.c.id == seed.connection_id)).one()
        broken = {**config, "idp_sso_url": None}
        conn.execute(update(connections).where(connections.c.id == seed.connection_id).values(saml_config=broken))
    response = authorize(http, base_params(seed))
    assert response.status_code == 302
    params = query(response.headers["location"])
    assert params["error"] == "invalid_saml_metadata"
    assert params["state"] == "st-42"
    with rt.engine.connect() as conn:
        (row,) = conn.execute(select(auth_requests)).all()
    assert row.status == "failed"
