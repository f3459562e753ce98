"""Per-request facts: which environment a request is for (by Host), and the client's address.

X-Forwarded-Host / X-Forwarded-For are honoured only when the direct peer is a configured trusted proxy;
anyone else could otherwise pick an environment or forge an address in the auth log.
"""

from __future__ import annotations

from fastapi import Request

from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services.environments import Environment, environment_for_host


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _from_trusted_proxy(request: Request) -> bool:
    rt = runtime(request)
    peer = request.client.host if request.client else None
    return bool(peer and peer in rt.settings.trusted_proxies)


def request_host(request: Request) -> str:
    if _from_trusted_proxy(request):
        forwarded = request.headers.get("x-forwarded-host")
        if forwarded:
            return forwarded.split(",")[0].strip().lower()
    return request.headers.get("host", "").lower()


def client_ip(request: Request) -> str | None:
    if _from_trusted_proxy(request):
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else None


class UnknownHost(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


def current_environment(request: Request) -> Environment:
    """FastAPI dependency: the environment this request's Host routes to, or a 404."""
    cached = getattr(request.state, "environment", None)
    if cached is not None:
        return cached
    host = request_host(request)
    env = environment_for_host(runtime(request), host)
    if env is None:
        raise UnknownHost(host)
    request.state.environment = env
    return env


def api_environment(request: Request) -> Environment:
    try:
        return current_environment(request)
    except UnknownHost as exc:
        raise ApiError(404, f"no environment is served at {exc.host}") from exc
