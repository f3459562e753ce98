"""Outbound HTTP to an IdP (DESIGN §4): bounded time, bounded size, no redirects, no private addresses.

Discovery documents, JWKS, token and userinfo responses are all small JSON objects; anything larger, slower,
not JSON, or served from a private address (unless the operator allows it) is refused with a message an
administrator can act on. The address check resolves the host first, so a public name that points at a
private address is refused as well.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_BYTES = 256 * 1024
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
USER_AGENT = "Entryway-OIDC-RP"


@dataclass
class FetchError(Exception):
    """The IdP could not be asked, or did not answer with what was wanted; `diagnosis` is wanted/got detail."""

    message: str
    diagnosis: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    body: Any = None  # the parsed JSON error body, when the IdP sent one

    def __post_init__(self) -> None:
        super().__init__(self.message)


def _refuse_private(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError("The URL is not an absolute http(s) URL", {"wanted": "an http(s) URL", "got": url[:200]})
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        raise FetchError(
            f"The host {parts.hostname} could not be resolved",
            {"wanted": "a resolvable host name", "got": parts.hostname},
        ) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(
                f"The host {parts.hostname} resolves to a private address, which Entryway does not contact "
                "(set ENTRYWAY_ALLOW_PRIVATE_FETCH=1 to allow it)",
                {"wanted": "a public address", "got": str(address), "host": parts.hostname},
            )


def _read_limited(response: httpx.Response, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise FetchError(
            "The IdP's answer is too large",
            {"wanted": f"at most {MAX_BYTES} bytes", "got": f"{declared} bytes", "url": url},
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(
                "The IdP's answer is too large", {"wanted": f"at most {MAX_BYTES} bytes", "got": "more", "url": url}
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(raw: bytes, content_type: str, url: str) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        got = "an HTML page" if media == "text/html" or raw.lstrip()[:1] == b"<" else f"{media or 'an unknown type'}"
        raise FetchError(
            "The IdP did not answer with JSON", {"wanted": "a JSON document", "got": got, "url": url}
        ) from exc


def request_json(
    method: str,
    url: str,
    *,
    allow_private: bool,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    accept_error_body: bool = False,
) -> Any:
    """Send one request and return the parsed JSON body of a 2xx answer.

    With `accept_error_body`, a 4xx/5xx JSON answer raises a FetchError carrying that body (the token
    endpoint's `{"error": …}`), so the caller can say what the IdP objected to.
    """
    _refuse_private(url, allow_private)
    sent = {"accept": "application/json", "user-agent": USER_AGENT, **(headers or {})}
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client,
            client.stream(method, url, data=data, headers=sent, auth=auth) as response,
        ):
            raw = _read_limited(response, url)
            status = response.status_code
            content_type = response.headers.get("content-type", "")
    except httpx.TimeoutException as exc:
        raise FetchError(
            "The IdP did not answer in time", {"wanted": "an answer within 5 seconds", "got": "a timeout", "url": url}
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(
            "The IdP could not be reached",
            {"wanted": "a reachable server", "got": type(exc).__name__, "url": url},
        ) from exc
    if not 200 <= status < 300:
        body = None
        if accept_error_body:
            try:
                body = _parse_json(raw, content_type, url)
            except FetchError:
                body = None
        raise FetchError(
            f"The IdP answered HTTP {status}",
            {"wanted": "HTTP 200", "got": f"HTTP {status}", "url": url},
            status=status,
            body=body if isinstance(body, dict) else None,
        )
    return _parse_json(raw, content_type, url)
