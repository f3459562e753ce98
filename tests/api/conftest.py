"""Fixtures for the management API: a seeded development environment, tokens, and a client that sends them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.api.fake_dns import DnsServer
from tests.api.fake_dns import dns_server as running_dns

CALLBACK = "http://localhost:3000/callback"


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", CALLBACK)


def token_for(rt: Runtime, seed: DevSeed, scopes: list[str] | None, client_id: str | None = None) -> str:
    client = client_id or seed.client_id
    return access_tokens.mint(
        rt, seed.environment, client_id=client, subject=client, ttl_seconds=600, scopes=scopes
    ).token


def client_with(rt: Runtime, seed: DevSeed, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(create_app(rt), base_url=seed.environment.url, headers=headers)


@pytest.fixture
def api(rt: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    """Calls as the app client, whose token carries every scope."""
    with client_with(rt, seed, token_for(rt, seed, ["*"])) as client:
        yield client


@pytest.fixture
def anonymous(rt: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    with client_with(rt, seed, None) as client:
        yield client


@pytest.fixture
def dns_server(rt: Runtime) -> Iterator[DnsServer]:
    """A real DNS server on loopback, used by domain verification through the ENTRYWAY_DNS_NAMESERVER setting."""
    with running_dns() as server:
        rt.settings = replace(rt.settings, dns_nameserver=server.address)
        yield server
