"""`entryway serve --keep-alive-timeout`: how long an idle kept-alive connection stays open, measured on a real
server, since a load balancer that reuses connections must not keep one longer than Entryway does."""

from __future__ import annotations

import socket
import time

import pytest
from click.testing import CliRunner

from entryway.cli import main
from tests.operations.conftest import Deployment
from tests.support.instances import running_instance

pytestmark = pytest.mark.e2e


def _open_after(port: int, idle_seconds: float) -> bool:
    """Send one kept-alive request, stay idle, then say whether the server still holds the connection open."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            assert chunk, "the server closed the connection before answering"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        time.sleep(idle_seconds)
        sock.settimeout(0.5)
        try:
            return sock.recv(1) != b""  # b"": the server closed it
        except TimeoutError:
            return True  # nothing to read, and still open
        except ConnectionResetError:
            return False


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(deployment: Deployment) -> None:
    with running_instance("short", deployment.env(), options=["--keep-alive-timeout", "1"]) as short:
        assert not _open_after(short.port, 2.5)
    with running_instance("default", deployment.env()) as default:
        assert _open_after(default.port, 2.5)  # the default, 5 s, keeps it


def test_a_keep_alive_timeout_out_of_range_is_refused(deployment: Deployment) -> None:
    result = CliRunner().invoke(main, ["serve", "--keep-alive-timeout", "0"], env=dict(deployment.env()))
    assert result.exit_code == 2 and "--keep-alive-timeout" in result.output
