"""Entryway as production runs it: `entryway serve` in its own process on a loopback port.

Each instance's stderr (JSON log lines) is read by a thread, kept for the test to inspect, and handed to the
run-wide log scan, so the logs of separate server processes are judged like those of in-process servers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.support.server import free_port, wait_healthy

ENTRYWAY = str(Path(sys.executable).parent / "entryway")

# Instance log lines are re-emitted under this prefix plus the instance's own logger name: the log scan judges
# them (they are the server's lines), and a reader of a failure sees which instance wrote what.
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[str]
    lines: list[dict[str, object]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.process.stderr is not None
        for text in self.process.stderr:
            text = text.rstrip("\n")
            self.raw.append(text)
            try:
                line = json.loads(text)
            except ValueError:
                line = {"logger": "entryway.instance", "level": "info", "message": text}
            if not isinstance(line, dict):
                line = {"logger": "entryway.instance", "level": "info", "message": text}
            self.lines.append(line)
            logger = str(line.get("logger") or "entryway.instance")
            # The whole line is the message: every field of it is what the server wrote, and all is scanned.
            logging.getLogger(logger).log(_LEVELS.get(str(line.get("level")), logging.INFO), "%s", text)

    def start_reader(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_healthy(self, timeout: float = 120) -> None:
        wait_healthy(self.base, self.process, self.output, timeout)

    def output(self) -> str:
        return "\n".join(self.raw[-40:])

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def wait(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code


def instance_env(
    database_url: str, master_key: str, data_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRYWAY_")}
    env.update(
        {
            "ENTRYWAY_DATABASE_URL": database_url,
            "ENTRYWAY_MASTER_KEY": master_key,
            "ENTRYWAY_DATA_DIR": str(data_dir),
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def running_instance(
    name: str,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    port: int | None = None,
    cwd: Path | None = None,
    options: Sequence[str] = (),
) -> Iterator[Instance]:
    """`entryway serve` on a loopback port (with `options` added); stopped (SIGTERM, then SIGKILL) when the block
    ends."""
    port = port or free_port()
    command = [ENTRYWAY, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), *options]
    process = subprocess.Popen(
        command, env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    instance = Instance(name, port, process)
    instance.start_reader()
    try:
        instance.wait_healthy()
        yield instance
    finally:
        instance.terminate()
        try:
            instance.wait(timeout=20)
        except subprocess.TimeoutExpired:
            instance.kill()
            instance.wait(timeout=10)


@contextmanager
def running_instances(count: int, env: Mapping[str, str], **kwargs: object) -> Iterator[list[Instance]]:
    with ExitStack() as stack:
        yield [stack.enter_context(running_instance(f"i{n}", env, **kwargs)) for n in range(count)]  # type: ignore[arg-type]


class Balancer:
    """Sends each request to the instance the test chooses, with the environment's Host header, as a load
    balancer in front of several instances would."""

    def __init__(self, env_url: str, timeout: float = 15) -> None:
        self.host = urlsplit(env_url).netloc
        self.http = httpx.Client(follow_redirects=False, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def url_on(self, instance: Instance, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(("http", f"127.0.0.1:{instance.port}", parts.path, parts.query, ""))

    def request(self, instance: Instance, method: str, url: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        headers["host"] = self.host
        return self.http.request(method, self.url_on(instance, url), headers=headers, **kwargs)  # type: ignore[arg-type]
