"""Helpers for OIDC relying-party tests: make an OIDC connection to a test OP, and walk a login through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from entryway.model.connections import SsoConnection
from entryway.runtime import Runtime
from entryway.services import connection_checks
from entryway.services import connections as connection_service
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import auth_events
from tests.connectors.oidc.provider import CLIENT_ID, CLIENT_SECRET, Provider

ENV_URL = "http://localhost:8000"
CALLBACK = "http://localhost:3000/callback"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def make_connection(
    rt: Runtime, seed: DevSeed, op: Provider, *, enable: bool = True, provider: str = "OKTA", **config: Any
) -> SsoConnection:
    mapping = config.pop("attribute_mapping", None)
    oidc_config = {"issuer": op.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **config}
    given = {k: v for k, v in oidc_config.items() if v is not None}
    # As the API does: the IdP is read before the transaction, and the save accepts that check only.
    checked = connection_checks.check_before_create(rt, seed.environment, "OIDC", given)
    with rt.engine.begin() as db:
        made = connection_service.create_connection(
            rt,
            db,
            seed.environment,
            seed.organization_id,
            type="OIDC",
            provider=provider,
            oidc_config=given,
            attribute_mapping=mapping,
            provider_check=checked,
        )
        if enable:
            made = connection_service.set_enabled(rt, db, seed.environment, made.id, True, provider_check=checked)
    return made


@dataclass
class Started:
    connection_id: str
    params: dict[str, str]  # the authorization request Entryway sent to the OP
    location: str


def start(
    http: TestClient, seed: DevSeed, connection_id: str, *, state: str = "app-state", nonce: str = "app-nonce"
) -> Started:
    response = http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "connection_id": connection_id,
        },
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return Started(connection_id, query(location), location)


def callback(http: TestClient, connection_id: str, **params: str) -> httpx.Response:
    return http.get(f"/sso/v1/oidc/{connection_id}/callback", params=params)


def login(http: TestClient, seed: DevSeed, op: Provider, connection_id: str, **claims: Any) -> httpx.Response:
    """A whole upstream login: authorize, the OP's grant, the callback. Returns the callback's response."""
    started = start(http, seed, connection_id)
    code = op.grant(started.params, **claims)
    return callback(http, connection_id, code=code, state=started.params["state"])


def app_result(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    return query(location)


def redeem(http: TestClient, seed: DevSeed, code: str) -> dict[str, Any]:
    response = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": seed.client_id,
            "client_secret": seed.plain_secret,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def last_failure(rt: Runtime) -> dict[str, Any]:
    with rt.engine.connect() as db:
        row = db.execute(
            select(auth_events).where(auth_events.c.status == "FAILED").order_by(auth_events.c.id.desc())
        ).first()
    assert row is not None
    return dict(row._mapping)
