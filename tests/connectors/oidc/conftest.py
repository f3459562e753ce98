"""Fixtures for the OIDC relying-party tests: a runtime allowed to reach loopback IdPs, with a clock the
tests can move; a seeded development environment; a running test OpenID Provider; an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.cli.conftest import cli_env, run  # noqa: F401 (the CLI fixtures, for the OIDC CLI tests)
from tests.connectors.oidc.provider import Provider, running_provider
from tests.connectors.oidc.support import CALLBACK, ENV_URL


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def ort(rt: Runtime, frozen: FrozenClock) -> Runtime:
    return Runtime.build(replace(rt.settings, allow_private_fetch=True), clock=frozen, engine=rt.engine)


@pytest.fixture
def seed(ort: Runtime) -> DevSeed:
    return seed_development(ort, ENV_URL, CALLBACK)


@pytest.fixture
def op() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def http(ort: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    with TestClient(create_app(ort), base_url=ENV_URL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def api(ort: Runtime, seed: DevSeed) -> Iterator[TestClient]:
    """The management API as the app client (every scope), on the runtime allowed to reach loopback IdPs."""
    from tests.api.conftest import client_with, token_for

    with client_with(ort, seed, token_for(ort, seed, ["*"])) as client:
        yield client
