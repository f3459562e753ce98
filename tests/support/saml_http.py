"""A tiny HTTP server on a loopback port serving what a test puts in it (metadata documents, redirects, stalls).

Real sockets, so the metadata fetcher's timeout, size cap, redirect handling and address policy are exercised
as in production.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass
class Served:
    base_url: str
    pages: dict[str, Page]
    hits: list[str] = field(default_factory=list)

    def put(self, path: str, body: bytes = b"", **options: object) -> str:
        self.pages[path] = Page(body, **options)  # type: ignore[arg-type]
        return self.base_url + path


@contextmanager
def serving() -> Iterator[Served]:
    pages: dict[str, Page] = {}
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            page = pages.get(self.path)
            if page is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if page.delay_seconds:
                time.sleep(page.delay_seconds)
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", pages, hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
