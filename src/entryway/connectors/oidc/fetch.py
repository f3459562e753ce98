"""Outbound HTTP to an IdP (DESIGN §4): bounded time, bounded size, no redirects, no private addresses.

Discovery documents, JWKS, token and userinfo responses are all small JSON objects; anything larger, slower,
not JSON, or served from a private address (unless the operator allows it) is refused with a message an
administrator can act on. The host name is resolved once, every address checked, and the connection made to a
checked address (entryway.outbound.pinned_client), so a DNS answer that changes between the check and the
connect (DNS rebinding) cannot lead to a private address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from entryway.outbound import OutboundPolicy, OutboundRefused, pinned_client

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


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError("The URL is not an absolute http(s) URL", {"wanted": "an http(s) URL", "got": url[:200]})


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
    policy: OutboundPolicy,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    accept_error_body: bool = False,
) -> Any:
    """Send one request and return the parsed JSON body of a 2xx answer.

    With `accept_error_body`, a 4xx/5xx JSON answer raises a FetchError carrying that body (the token
    endpoint's `{"error": …}`), so the caller can say what the IdP objected to.
    """
    _check_scheme(url)
    sent = {"accept": "application/json", "user-agent": USER_AGENT, **(headers or {})}
    try:
        with (
            pinned_client(policy, TIMEOUT) as client,
            client.stream(method, url, data=data, headers=sent, auth=auth) as response,
        ):
            raw = _read_limited(response, url)
            status = response.status_code
            content_type = response.headers.get("content-type", "")
    except OutboundRefused as exc:
        raise FetchError(exc.message, {**exc.diagnosis, "url": url}) from exc
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
