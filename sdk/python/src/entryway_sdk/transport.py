"""HTTP to Entryway, sync and async: retries on 429/503 only (honouring Retry-After), the management API's
client-credentials token (fetched on first use, renewed before it expires or once after a 401), and the
mapping of error answers to the SDK's exceptions.

Retrying a POST is safe because every POST carries an Idempotency-Key that stays the same across its retries.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from entryway_sdk.config import Credentials
from entryway_sdk.errors import OAuthError, TransportError, api_error, retry_after_seconds

T = TypeVar("T")

TOKEN_PATH = "/oauth/token"
API_PREFIX = "/api/v1"
RETRY_STATUSES = frozenset({429, 503})
USER_AGENT = "entryway-sdk-python/0.1.0"
_TOKEN_RENEW_MARGIN = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = self.base_delay * (2**attempt)
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Call(Generic[T]):
    """One management API call: built (and its arguments checked) before anything is sent."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _oauth_error(response: httpx.Response) -> OAuthError:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return OAuthError(response.status_code, body["error"], str(body.get("error_description") or ""))
    return OAuthError(response.status_code, "server_error", f"unexpected HTTP {response.status_code} from /oauth/token")


def _token_result(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise _oauth_error(response)
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise TransportError("the token endpoint answered without an access_token")
    return body


def _api_result(call: Call[T], response: httpx.Response) -> T:
    body = _json(response)
    if response.is_success:
        return call.parse(body)
    raise api_error(response.status_code, body, response.headers.get("retry-after"))


def _headers(call: Call[Any], token: str, idempotency_key: str | None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["idempotency-key"] = idempotency_key
    return headers


@dataclass
class _Token:
    value: str
    renew_at: float


class _TokenSlot:
    def __init__(self) -> None:
        self.token: _Token | None = None

    def current(self) -> str | None:
        if self.token is not None and time.monotonic() < self.token.renew_at:
            return self.token.value
        return None

    def store(self, body: dict[str, Any]) -> str:
        lifetime = float(body.get("expires_in") or 0)
        self.token = _Token(body["access_token"], time.monotonic() + max(lifetime - _TOKEN_RENEW_MARGIN, 0))
        return self.token.value


def _client_credentials_form(creds: Credentials) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret}


class SyncTransport:
    def __init__(
        self,
        creds: Credentials,
        *,
        retry: RetryPolicy,
        timeout: float,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.creds = creds
        self.retry = retry
        self._http = http or httpx.Client(timeout=timeout, headers={"user-agent": USER_AGENT})
        self._sleep = sleep
        self._token = _TokenSlot()

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, self.creds.env_url + path, **kwargs)
            except httpx.HTTPError as exc:
                raise TransportError(f"{method} {path} failed: {exc}") from exc
            if response.status_code not in RETRY_STATUSES or attempt >= self.retry.max_retries:
                return response
            self._sleep(self.retry.delay(attempt, retry_after_seconds(response.headers.get("retry-after"))))
            attempt += 1

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        return _token_result(self.send("POST", TOKEN_PATH, data=form))

    def get_json(self, path: str) -> Any:
        response = self.send("GET", path)
        if response.status_code != 200:
            raise TransportError(f"GET {path} answered HTTP {response.status_code}")
        return _json(response)

    def _management_token(self, renew: bool) -> str:
        current = None if renew else self._token.current()
        return current or self._token.store(self.token(_client_credentials_form(self.creds)))

    def call(self, call: Call[T]) -> T:
        key = str(uuid.uuid4()) if call.method == "POST" else None
        for renew in (False, True):
            response = self.send(
                call.method,
                API_PREFIX + call.path,
                params=call.params,
                json=call.body,
                headers=_headers(call, self._management_token(renew), key),
            )
            if response.status_code != 401:
                break
        return _api_result(call, response)


class AsyncTransport:
    def __init__(
        self,
        creds: Credentials,
        *,
        retry: RetryPolicy,
        timeout: float,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.creds = creds
        self.retry = retry
        self._http = http or httpx.AsyncClient(timeout=timeout, headers={"user-agent": USER_AGENT})
        self._sleep = sleep
        self._token = _TokenSlot()

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, self.creds.env_url + path, **kwargs)
            except httpx.HTTPError as exc:
                raise TransportError(f"{method} {path} failed: {exc}") from exc
            if response.status_code not in RETRY_STATUSES or attempt >= self.retry.max_retries:
                return response
            await self._sleep(self.retry.delay(attempt, retry_after_seconds(response.headers.get("retry-after"))))
            attempt += 1

    async def token(self, form: dict[str, str]) -> dict[str, Any]:
        return _token_result(await self.send("POST", TOKEN_PATH, data=form))

    async def get_json(self, path: str) -> Any:
        response = await self.send("GET", path)
        if response.status_code != 200:
            raise TransportError(f"GET {path} answered HTTP {response.status_code}")
        return _json(response)

    async def _management_token(self, renew: bool) -> str:
        current = None if renew else self._token.current()
        return current or self._token.store(await self.token(_client_credentials_form(self.creds)))

    async def call(self, call: Call[T]) -> T:
        key = str(uuid.uuid4()) if call.method == "POST" else None
        for renew in (False, True):
            response = await self.send(
                call.method,
                API_PREFIX + call.path,
                params=call.params,
                json=call.body,
                headers=_headers(call, await self._management_token(renew), key),
            )
            if response.status_code != 401:
                break
        return _api_result(call, response)
