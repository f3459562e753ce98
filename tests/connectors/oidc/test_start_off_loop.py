"""An OIDC connection's authorize may fetch the IdP's discovery document; that wait happens off the worker's
event loop even when login steps run in place (web/step_runner.py), so the worker keeps answering meanwhile."""

from __future__ import annotations

from dataclasses import replace

import httpx

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.connectors.oidc.provider import Provider
from tests.connectors.oidc.support import CALLBACK, make_connection
from tests.support.server import free_port, running_server

DISCOVERY = "/.well-known/openid-configuration"


def test_a_slow_discovery_fetch_does_not_stall_the_worker(ort: Runtime, seed: DevSeed, op: Provider) -> None:
    conn = make_connection(ort, seed, op)
    in_place = replace(ort, settings=replace(ort.settings, login_steps_in_place=True), caches={})
    assert "oidc_discovery" not in in_place.caches  # authorize must fetch the document again
    answered: list[int | str] = []
    with running_server(in_place, free_port()) as base:
        host = {"Host": "localhost:8000"}  # the seeded environment's host

        def meanwhile(path: str) -> None:
            # Called by the IdP as the discovery request arrives, before it answers: the same server must
            # answer another request now, while its authorize waits for this one.
            if path != DISCOVERY:
                return
            try:
                answered.append(httpx.get(f"{base}/healthz", headers=host, timeout=2).status_code)
            except httpx.TimeoutException:
                answered.append("timed out")

        op.probe = meanwhile
        op.delay[DISCOVERY] = 0.5
        started = httpx.get(
            f"{base}/oauth/authorize",
            headers=host,
            timeout=10,
            params={
                "response_type": "code",
                "client_id": seed.client_id,
                "redirect_uri": CALLBACK,
                "scope": "openid",
                "state": "app-state",
                "connection_id": conn.id,
            },
        )
    assert started.status_code == 302 and started.headers["location"].startswith(f"{op.base}/authorize?")
    assert answered == [200], answered
