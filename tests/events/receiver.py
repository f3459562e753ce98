"""A real HTTP receiver on a loopback port: records every POST and answers as the test scripts it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.server import free_port, serving_in_thread


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Answers for the next requests, consumed in order: (status, delay seconds). When empty: `default`.
    script: list[tuple[int, float]] = field(default_factory=list)
    default: tuple[int, float] = (200, 0.0)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> tuple[int, float]:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"wanted {count} deliveries, got {len(self.received)}")
            time.sleep(0.02)


@contextmanager
def receiver(path: str = "/hooks") -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(f"http://127.0.0.1:{port}{path}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, delay = state.answer()
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with state.lock:
                state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if delay:
                time.sleep(delay)
            answer = b"ok" if status < 300 else b"receiver says no"
            try:
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving_in_thread(ThreadingHTTPServer(("127.0.0.1", port), Handler)):
        yield state
