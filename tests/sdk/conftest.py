"""A real Entryway server on a loopback port, its development environment seeded, and SDK clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from entryway_sdk import EntrywayClient

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed, seed_development
from tests.support.server import free_port, running_server

CALLBACK = "http://127.0.0.1:9/callback"
POST_LOGOUT = "http://127.0.0.1:9/signed-out"


@dataclass
class Live:
    base: str
    seed: DevSeed
    browser: httpx.Client
    client: EntrywayClient

    @property
    def secret(self) -> str:
        assert self.seed.plain_secret is not None
        return self.seed.plain_secret


@pytest.fixture
def live(rt: Runtime) -> Iterator[Live]:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, seed.environment, RedirectKind.POST_LOGOUT, POST_LOGOUT)
    assert seed.plain_secret is not None
    with (
        running_server(rt, port) as base,
        httpx.Client(follow_redirects=False, timeout=10) as browser,
        EntrywayClient(base, seed.client_id, seed.plain_secret) as client,
    ):
        yield Live(base, seed, browser, client)
