"""Redirect URI rules (CONTRACT §2): which URIs may be registered in which environment, and how they match.

Matching is exact string comparison. The one exception is a development-environment wildcard, which stands
for a run of host characters within the outermost host label only.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from entryway.model.environments import EnvironmentType

MAX_LENGTH = 256
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_WILDCARD_LABEL = re.compile(r"^[a-z0-9-]*\*$", re.IGNORECASE)
# Schemes that would let a "redirect" run code or read local data in the browser.
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob", "filesystem"})


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_redirect_uri(uri: str, env_type: EnvironmentType) -> list[str]:
    """Every rule the URI breaks, as sentences a person can act on; an empty list means it may be registered."""
    problems: list[str] = []
    if not uri:
        return ["the URI is empty"]
    if len(uri) > MAX_LENGTH:
        problems.append(f"the URI is {len(uri)} characters long; at most {MAX_LENGTH} are allowed")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri):
        problems.append("the URI contains whitespace or control characters")
        return problems
    if "\\" in uri:
        problems.append("the URI contains a backslash")
        return problems
    scheme, sep, _ = uri.partition("://")
    if not sep or not _SCHEME.match(scheme):
        problems.append("the URI must be absolute: scheme://host/path")
        return problems
    scheme = scheme.lower()
    if scheme in _FORBIDDEN_SCHEMES:
        problems.append(f"the scheme {scheme!r} is not allowed")
        return problems
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        problems.append(f"the URI cannot be parsed: {exc}")
        return problems
    web = scheme in ("http", "https")
    if scheme == "http" and env_type is EnvironmentType.PRODUCTION:
        problems.append("production redirect URIs must use https (or a custom app scheme), not http")
    if "?" in uri:
        problems.append("query strings are not allowed in redirect URIs")
    if "#" in uri:
        problems.append("fragments are not allowed in redirect URIs")
    if "@" in parts.netloc:
        problems.append("user information (user@host) is not allowed in redirect URIs")
    host = parts.hostname or ""
    if not host:
        problems.append("the URI has no host")
        return problems
    if port == 0:
        problems.append("port 0 is not a valid port")
    if env_type is EnvironmentType.PRODUCTION and is_loopback_host(host):
        problems.append("localhost and loopback addresses are not allowed in production")
    wildcards = uri.count("*")
    if wildcards:
        if env_type is EnvironmentType.PRODUCTION:
            problems.append("wildcards are not allowed in production redirect URIs")
        elif wildcards > 1:
            problems.append("at most one wildcard is allowed")
        else:
            problems.extend(_check_wildcard_host(host, web, "*" in parts.netloc.rsplit(":", 1)[0]))
    elif web and not _valid_host(host):
        problems.append(f"{host!r} is not a valid host name")
    return problems


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    return all(_LABEL.match(label) for label in host.split("."))


def _check_wildcard_host(host: str, web: bool, wildcard_in_host: bool) -> list[str]:
    if not wildcard_in_host:
        return ["a wildcard may appear only in the host, not in the scheme, port or path"]
    if not web:
        return ["wildcards are allowed only in http and https URIs"]
    labels = host.split(".")
    first, rest = labels[0], labels[1:]
    if "*" in "".join(rest) or not _WILDCARD_LABEL.match(first):
        return ["the wildcard must be the whole outermost host label or end it as a prefix (https://*.acme.com)"]
    if len(rest) < 2:
        return ["a wildcard needs a registrable domain beneath it (https://*.acme.com, never https://*.com)"]
    if not all(_LABEL.match(label) for label in rest):
        return [f"{'.'.join(rest)!r} is not a valid host name"]
    return []


def matches(registered: str, candidate: str) -> bool:
    """Does `candidate` (from an authorize request) match the registered URI? Exact, except a dev wildcard."""
    if "*" not in registered:
        return registered == candidate
    head, _, tail = registered.partition("*")
    if not (candidate.startswith(head) and candidate.endswith(tail)):
        return False
    if len(candidate) < len(head) + len(tail) + 1:
        return False
    middle = candidate[len(head) : len(candidate) - len(tail)]
    return re.fullmatch(r"[a-z0-9-]+", middle, re.IGNORECASE) is not None
