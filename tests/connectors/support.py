"""Helpers for connector tests: a seeded development environment with a SAML connection that trusts a test
IdP key, an in-process HTTP client, auth requests bound to AuthnRequest IDs, and reading login outcomes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from entryway.app import create_app
from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING, ConnectionType, Provider, SsoConnection
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.services.connections import find_connection, insert_connection
from entryway.services.logins import AuthRequest
from entryway.store.after_commit import transaction
from entryway.store.tables import auth_codes, auth_events, connections
from tests.support.saml_builder import IdpKey, ResponseFields, new_id, shared_key

ENV_URL = "http://localhost:8000"
CALLBACK = "http://localhost:3000/callback"
IDP_ENTITY_ID = "https://idp.test.example/saml/metadata"
IDP_SSO_URL = "https://idp.test.example/saml/sso"


def frozen_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@dataclass
class SamlWorld:
    rt: Runtime
    seed: DevSeed
    connection: SsoConnection
    idp: IdpKey
    http: TestClient

    @property
    def env_id(self) -> str:
        return self.seed.environment.id

    def new_login(self, connection: SsoConnection | None = None) -> tuple[AuthRequest, str]:
        """A pending auth request bound to a fresh AuthnRequest ID, as start_login leaves it."""
        connection = connection or self.connection
        upstream = new_id()
        with transaction(self.rt.engine) as db:
            request = logins.create_auth_request(
                self.rt,
                db,
                env=self.seed.environment,
                client_id=self.seed.client_id,
                redirect_uri=CALLBACK,
                scope="openid email profile",
                state="app-state",
                nonce="nonce-1",
                code_challenge=None,
                code_challenge_method=None,
                connection=connection,
                login_hint=None,
                upstream_request_id=upstream,
            )
        return request, upstream

    def fields(self, in_response_to: str | None, **overrides: Any) -> ResponseFields:
        config = self.connection.saml_config
        return ResponseFields(
            idp_entity_id=config["idp_entity_id"],
            sp_entity_id=config["sp_entity_id"],
            acs_url=config["sp_assertion_url"],
            now=self.rt.clock.now(),
            in_response_to=in_response_to,
            **overrides,
        )

    def post(self, saml_response: str | None, relay_state: str | None, **kwargs: Any) -> httpx.Response:
        data = {}
        if saml_response is not None:
            data["SAMLResponse"] = saml_response
        if relay_state is not None:
            data["RelayState"] = relay_state
        return self.http.post(self.connection.saml_config["sp_assertion_url"], data=data, **kwargs)

    def reconfigure(self, *, attribute_mapping: dict[str, str] | None = None, **saml_config: Any) -> None:
        """Change the connection as an admin would (its update_time moves, so cached config is dropped)."""
        values: dict[str, Any] = {"update_time": self.connection.update_time + timedelta(seconds=1)}
        if saml_config:
            values["saml_config"] = {**self.connection.saml_config, **saml_config}
        if attribute_mapping is not None:
            values["attribute_mapping"] = attribute_mapping
        with self.rt.engine.begin() as db:
            db.execute(update(connections).where(connections.c.id == self.connection.id).values(**values))
            found = find_connection(db, self.env_id, self.connection.id)
        assert found is not None
        self.connection = found

    def failures(self) -> list[Any]:
        with self.rt.engine.connect() as db:
            return list(
                db.execute(
                    select(auth_events)
                    .where(auth_events.c.environment_id == self.env_id, auth_events.c.status == "FAILED")
                    .order_by(auth_events.c.create_time, auth_events.c.id)
                ).all()
            )

    def code_profile(self, auth_request_id: str) -> dict[str, Any]:
        with self.rt.engine.connect() as db:
            row = db.execute(select(auth_codes.c.profile).where(auth_codes.c.auth_request_id == auth_request_id)).one()
        return dict(row.profile)


def outcome(response: httpx.Response) -> str:
    """'code' for a completed login, else the error code the browser was shown or sent back with."""
    if response.status_code == 302:
        params = query(response.headers["location"])
        if "code" in params:
            return "code"
        return params.get("error", "redirect:" + response.headers["location"])
    match = re.search(r"Error code: <code>([a-z_]+)</code>", response.text)
    assert match, f"unexpected response {response.status_code}: {response.text[:300]}"
    return match.group(1)


def make_world(rt: Runtime, *, allow_idp_initiated: bool = False, **saml_config: Any) -> Iterator[SamlWorld]:
    seed = seed_development(rt, ENV_URL, CALLBACK)
    idp = shared_key("idp")
    with rt.engine.begin() as db:
        connection = insert_connection(
            rt,
            db,
            env_id=seed.environment.id,
            env_url=seed.environment.url,
            organization_id=seed.organization_id,
            type=ConnectionType.SAML,
            provider=Provider.OKTA,
            enabled=True,
            attribute_mapping=dict(DEFAULT_ATTRIBUTE_MAPPING),
            saml_config={
                "idp_entity_id": IDP_ENTITY_ID,
                "idp_sso_url": IDP_SSO_URL,
                "idp_certificates": [idp.certificate_pem],
                "idp_sso_request_binding": "HTTP_REDIRECT",
                "allow_idp_initiated_login": allow_idp_initiated,
                **saml_config,
            },
        )
        connection = find_connection(db, seed.environment.id, connection.id) or connection
    with TestClient(create_app(rt), base_url=ENV_URL, follow_redirects=False) as http:
        yield SamlWorld(rt, seed, connection, idp, http)
