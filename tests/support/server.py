"""A real Entryway server on a loopback port, in a background thread, for end-to-end tests over HTTP."""

from __future__ import annotations

import os
import random
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from entryway.app import create_app
from entryway.observability import json_logs
from entryway.runtime import Runtime

# Ports are handed out below Linux's ephemeral range (32768-60999), so an outgoing connection can never take
# one between the check and the listen, and each xdist worker draws from its own block, so two workers never
# race for the same port.
_BLOCK = 2000
_BASE = 20000
_handed_out: set[int] = set()


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) % 6 if digits else 0


def free_port() -> int:
    start = _BASE + _worker_index() * _BLOCK
    candidates = list(range(start, start + _BLOCK))
    random.shuffle(candidates)
    for port in candidates:
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port in this worker's block")


def wait_healthy(base: str, process: subprocess.Popen[Any], output: Callable[[], str], timeout: float = 60) -> None:
    """Wait until a server process started by a test answers `base`/healthz; fail with its output if it exits
    or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base}: the server exited: {output()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base}: the server did not become healthy: {output()}")


@contextmanager
def serving_in_thread(server: socketserver.BaseServer) -> Iterator[socketserver.BaseServer]:
    """Run a test's own HTTP server (a peer: IdP, OP, webhook receiver, proxy) in a daemon thread until exit."""
    if isinstance(server, socketserver.ThreadingMixIn):
        server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def running_server(rt: Runtime, port: int) -> Iterator[str]:
    # As `entryway serve` runs it: X-Forwarded-* are judged by the app (ENTRYWAY_TRUSTED_PROXIES), not uvicorn;
    # uvicorn's lines, the access log among them, go through the root logger, so the run-wide log scan reads them.
    config = uvicorn.Config(
        create_app(rt),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="info",
        lifespan="off",
        proxy_headers=False,
    )
    json_logs.route_server_logs()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
