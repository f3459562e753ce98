"""Per-request facts: which environment a request is for (by Host), the client's address, and the scheme.

TLS terminates at a reverse proxy, which tells us what the browser used in X-Forwarded-Host, -Proto and -For.
Those headers are believed only when the direct peer is one of ENTRYWAY_TRUSTED_PROXIES (addresses or CIDR
ranges); from anyone else they are ignored, since a client could otherwise pick an environment or forge an
address in the auth log. For X-Forwarded-For each proxy appends the address it saw, so the client is the
right-most address that is not itself a trusted proxy: anything left of it was written by the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services.environments import Environment, cached_environment_for_host, environment_for_host

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    # load_settings refuses malformed entries; Settings built in code are parsed leniently (bad ones never match)
    found: list[Network] = []
    for proxy in proxies:
        try:
            found.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError:
            continue
    return tuple(found)


def is_trusted_proxy(proxies: tuple[str, ...], address: str | None) -> bool:
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(proxies))


def _from_trusted_proxy(request: Request) -> bool:
    peer = request.client.host if request.client else None
    return is_trusted_proxy(runtime(request).settings.trusted_proxies, peer)


def _first_forwarded(request: Request, header: str) -> str | None:
    """The left-most value of a forwarded header a trusted proxy set (a proxy overwrites, never appends, these)."""
    value = request.headers.get(header)
    if value and _from_trusted_proxy(request):
        first = value.split(",")[0].strip()
        return first or None
    return None


def request_host(request: Request) -> str:
    forwarded = _first_forwarded(request, "x-forwarded-host")
    return (forwarded or request.headers.get("host", "")).lower()


def request_scheme(request: Request) -> str:
    """`https` or `http`, as the browser used it: X-Forwarded-Proto from a trusted proxy, else the connection's."""
    forwarded = _first_forwarded(request, "x-forwarded-proto")
    if forwarded and forwarded.lower() in ("http", "https"):
        return forwarded.lower()
    return request.url.scheme


def client_ip(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    if not _from_trusted_proxy(request):
        return peer
    proxies = runtime(request).settings.trusted_proxies
    chain = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    for address in reversed(chain):
        if is_trusted_proxy(proxies, address):
            continue
        try:
            return str(ipaddress.ip_address(address.strip("[]")))
        except ValueError:
            return peer  # a proxy writes addresses; anything else means the chain cannot be read
    return chain[0] if chain else peer


class InsecureRequest(Exception):
    """A trusted proxy reports that the browser used plain http for a production environment."""

    def __init__(self, https_url: str) -> None:
        super().__init__(https_url)
        self.https_url = https_url


class UnknownHost(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


def current_environment(request: Request) -> Environment:
    """The environment this request's Host routes to, or UnknownHost (a 404 page). May read the database."""
    cached = getattr(request.state, "environment", None)
    if cached is not None:
        return cached
    host = request_host(request)
    return _admit(request, host, environment_for_host(runtime(request), host))


async def request_environment(request: Request) -> Environment:
    """FastAPI dependency: `current_environment` without a thread-pool hop when the configuration cache already
    knows the host (the usual case); otherwise in the thread pool, since a miss or a due generation check reads
    the database. Same checks, same answers."""
    cached = getattr(request.state, "environment", None)
    if cached is not None:
        return cached
    host = request_host(request)
    known, env = cached_environment_for_host(runtime(request), host)
    if not known:
        return await run_in_threadpool(current_environment, request)
    return _admit(request, host, env)


async def request_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the app's runtime (async, so FastAPI does not send it to the thread pool)."""
    return runtime(request)


def _admit(request: Request, host: str, env: Environment | None) -> Environment:
    if env is None:
        raise UnknownHost(host)
    if not env.is_development and _first_forwarded(request, "x-forwarded-proto") == "http":
        query = f"?{request.url.query}" if request.url.query else ""
        raise InsecureRequest(f"https://{host}{request.url.path}{query}")
    request.state.environment = env
    return env


def api_environment(request: Request) -> Environment:
    try:
        return current_environment(request)
    except UnknownHost as exc:
        raise ApiError(404, f"no environment is served at {exc.host}") from exc
