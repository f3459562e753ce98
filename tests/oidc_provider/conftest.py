"""Fixtures for the app-facing OpenID Provider: a seeded development environment and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, ENV_URL, CALLBACK)


@pytest.fixture
def http(rt: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url=ENV_URL, follow_redirects=False) as client:
        yield client
