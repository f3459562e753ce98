"""Fetching IdP metadata from the URL an admin gave (DESIGN §4: outbound fetches are bounded and public-only).

A timeout, a size cap read as the body streams in, no proxy settings from the environment, redirects followed
by hand (at most a few, each target checked again), and every address the host name resolves to must be a
public one unless the operator set ENTRYWAY_ALLOW_PRIVATE_FETCH: an admin's URL must not become a way to read
the broker's own network (cloud metadata services, databases, admin ports).

Each connection (the first and every redirect's) resolves its host once, checks every address of the answer
and connects to a checked one (entryway.outbound.pinned_client), so a DNS answer that changes between the
check and the connect (DNS rebinding) cannot reach a private address. The response is only ever parsed as
metadata, never shown.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx

from entryway.connectors.saml.idp_metadata import MAX_METADATA_BYTES, MetadataProblem
from entryway.outbound import OutboundPolicy, OutboundRefused, pinned_client

TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 3
ACCEPT = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"


def _check_url(url: str, *, allow_http: bool) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MetadataProblem("the metadata URL is not a valid URL") from exc
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise MetadataProblem("the metadata URL must be an absolute https URL")
    if parts.username or parts.password:
        raise MetadataProblem("the metadata URL must not contain user information")
    del port  # read only to reject an invalid one


def fetch_metadata(
    url: str,
    *,
    allow_private: bool = False,
    allow_http: bool = False,
    timeout: float = TIMEOUT_SECONDS,
    policy: OutboundPolicy | None = None,
) -> bytes:
    """The metadata document at `url`, or MetadataProblem saying why it cannot be had.

    `policy` (entryway.outbound.policy_for the settings) says which addresses may be reached; without one,
    public addresses only, or any with `allow_private`."""
    with pinned_client(policy or OutboundPolicy(allow_private=allow_private), timeout) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(url, allow_http=allow_http)
            try:
                with client.stream("GET", url, headers={"Accept": ACCEPT}) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise MetadataProblem(f"the metadata URL answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > MAX_METADATA_BYTES:
                        raise MetadataProblem(f"the metadata is larger than {MAX_METADATA_BYTES // 1024} KiB")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_METADATA_BYTES:
                            raise MetadataProblem(f"the metadata is larger than {MAX_METADATA_BYTES // 1024} KiB")
                    return bytes(body)
            except OutboundRefused as exc:
                raise MetadataProblem(exc.message) from exc
            except httpx.TimeoutException as exc:
                raise MetadataProblem(f"the metadata URL did not answer within {timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise MetadataProblem(f"the metadata URL cannot be fetched ({type(exc).__name__})") from exc
    raise MetadataProblem(f"the metadata URL redirects more than {MAX_REDIRECTS} times")
