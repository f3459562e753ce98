"""The load generator's HTTP client: HTTP/1.1 over one keep-alive socket per simulated browser.

httpx cost the benchmark process 4 to 6 ms of CPU per login (four requests), and `http.client` (whose header
parsing goes through the email package) still 2 ms, on the same two cores as the servers it measures: the
load generator took CPU from the servers under test. This client does only what a login needs: GET with a
query, POST a form, read the status line, the headers and a Content-Length or chunked body. No redirects are
followed, no cookies kept, nothing retried except a request on a keep-alive connection the server had already
closed (as browsers do). Anything it does not understand is an error, which fails the login. Both products
get the same client.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any
from urllib.parse import quote_plus, urlsplit

FORM = "application/x-www-form-urlencoded"
# quote_plus's escapes for ASCII: RFC 3986's unreserved characters stay, a space becomes '+', the rest %XX.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]")
_ESCAPES = {chr(c): "+" if c == 0x20 else f"%{c:02X}" for c in range(128)}


def _quote(value: str) -> str:
    """quote_plus, without its per-character Python loop for ASCII text: a 10 kB base64 SAMLResponse cost the
    load generator about 0.4 ms of CPU per login, taken from the servers it measures."""
    if not value.isascii():
        return quote_plus(value)
    return _UNSAFE.sub(lambda found: _ESCAPES[found.group()], value)


def urlencode(fields: dict[str, str]) -> str:
    return "&".join(f"{_quote(name)}={_quote(value)}" for name, value in fields.items())


MAX_HEADER_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 as this client reads it."""


class Answer:
    """A response: status, headers (lower-case names; a repeated header keeps its last value) and the body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One connection to `base` (http://host:port), reused for every request; one per thread."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the benchmark speaks plain http to a loopback server, not {base!r}")
        self.address = (parts.hostname, parts.port or 80)
        self.host_header = parts.netloc
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def get(self, path: str, params: dict[str, str] | None = None) -> Answer:
        return self._send("GET", f"{path}?{urlencode(params)}" if params else path, b"", {})

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        return self._send("POST", path, urlencode(data).encode(), {"content-type": FORM, **(headers or {})})

    def _send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        lines = [f"{method} {target} HTTP/1.1", f"host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if method == "POST":
            lines.append(f"content-length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        reused = self._sock is not None
        try:
            return self._exchange(request)
        except (ConnectionResetError, BrokenPipeError, EOFError):
            self.close()
            if not reused:
                raise
            # The server closed the idle keep-alive connection before reading this request: send it again once.
            return self._exchange(request)

    def _exchange(self, request: bytes) -> Answer:
        if self._sock is None:
            self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buffer = b""
        self._sock.sendall(request)
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:100]!r}")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError(f"not a header line: {line[:100]!r}")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self._read_exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
            self.close()
        return Answer(int(rest[:3]), headers, body)

    def _fill(self) -> None:
        assert self._sock is not None
        data = self._sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self._buffer += data

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise ProtocolError("no end of the response headers")
            self._fill()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self._read_until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                while self._read_until(b"\r\n"):  # trailers, then the empty line
                    pass
                return b"".join(parts)
            parts.append(self._read_exactly(size))
            if self._read_exactly(2) != b"\r\n":
                raise ProtocolError("a chunk does not end with CRLF")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# What a request can fail with, besides an unexpected answer (which one_login raises as RuntimeError).
ERRORS = (OSError, EOFError, ProtocolError)
