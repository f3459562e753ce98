"""EntrywayClient (sync) and AsyncEntrywayClient: the login helpers, token validation, webhook verification
and the management resources, for one environment and its app client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from entryway_sdk import arguments, authorization, keys, tokens, webhooks
from entryway_sdk.authorization import AuthorizationRequest
from entryway_sdk.config import Credentials
from entryway_sdk.errors import TokenValidationError, TransportError
from entryway_sdk.models import AuthenticationResult, IdpInitiatedLoginClaims
from entryway_sdk.resources import (
    AsyncConnections,
    AsyncDomains,
    AsyncOrganizations,
    AsyncPortalLinks,
    Connections,
    Domains,
    Organizations,
    PortalLinks,
)
from entryway_sdk.transport import AsyncTransport, RetryPolicy, SyncTransport
from entryway_sdk.webhook_resources import AsyncEvents, AsyncWebhooks, Events, Webhooks

DEFAULT_TIMEOUT = 10.0
DEFAULT_LEEWAY = 30.0  # seconds of clock skew tolerated on exp / iat / nbf


def _code_form(creds: Credentials, code: str, redirect_uri: str, code_verifier: str | None) -> dict[str, str]:
    arguments.text("code", code)
    arguments.url("redirect_uri", redirect_uri, schemes=None)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
    }
    if code_verifier is not None:
        arguments.text("code_verifier", code_verifier)
        form["code_verifier"] = code_verifier
    return form


def _token_fields(body: dict[str, Any]) -> tuple[str, str, int]:
    id_token, access_token = body.get("id_token"), body.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise TransportError("the token endpoint answered without an id_token and an access_token")
    expires_in = body.get("expires_in")
    return id_token, access_token, int(expires_in) if isinstance(expires_in, int) else 0


class _LoginHelpers:
    """What needs no network: URLs and webhook signatures."""

    creds: Credentials

    @property
    def env_url(self) -> str:
        return self.creds.env_url

    @property
    def client_id(self) -> str:
        return self.creds.client_id

    def get_authorization_url(
        self,
        redirect_uri: str,
        *,
        connection_id: str | None = None,
        organization_id: str | None = None,
        domain: str | None = None,
        domain_hint: str | None = None,
        login_hint: str | None = None,
        state: str | None = None,
        nonce: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        scopes: Sequence[str] | None = None,
        prompt: str | None = None,
    ) -> str:
        return authorization.authorization_url(
            self.creds,
            redirect_uri,
            connection_id=connection_id,
            organization_id=organization_id,
            domain=domain,
            domain_hint=domain_hint,
            login_hint=login_hint,
            state=state,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            scopes=scopes,
            prompt=prompt,
        )

    def create_authorization_request(
        self,
        redirect_uri: str,
        *,
        connection_id: str | None = None,
        organization_id: str | None = None,
        domain: str | None = None,
        domain_hint: str | None = None,
        login_hint: str | None = None,
        scopes: Sequence[str] | None = None,
        prompt: str | None = None,
    ) -> AuthorizationRequest:
        """A login URL with a fresh state, nonce and PKCE pair: keep the result until the callback."""
        return authorization.authorization_request(
            self.creds,
            redirect_uri,
            connection_id=connection_id,
            organization_id=organization_id,
            domain=domain,
            domain_hint=domain_hint,
            login_hint=login_hint,
            scopes=scopes,
            prompt=prompt,
        )

    def get_logout_url(
        self,
        *,
        id_token_hint: str | None = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
    ) -> str:
        return authorization.logout_url(
            self.creds, id_token_hint=id_token_hint, post_logout_redirect_uri=post_logout_redirect_uri, state=state
        )

    def verify_webhook_payload(
        self,
        secret: str,
        headers: Mapping[str, str],
        payload: bytes | str,
        *,
        tolerance_seconds: int = webhooks.DEFAULT_TOLERANCE_SECONDS,
    ) -> bool:
        return webhooks.verify(secret, headers, payload, tolerance_seconds=tolerance_seconds)


class EntrywayClient(_LoginHelpers):
    def __init__(
        self,
        env_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        leeway: float = DEFAULT_LEEWAY,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.creds = Credentials.of(env_url, client_id, client_secret)
        self._transport = SyncTransport(self.creds, retry=retry or RetryPolicy(), timeout=timeout, http=http_client)
        self._keys = keys.KeyCache()
        self._leeway = leeway
        self.organizations = Organizations(self._transport)
        self.domains = Domains(self._transport)
        self.connections = Connections(self._transport)
        self.portal_links = PortalLinks(self._transport)
        self.webhooks = Webhooks(self._transport)
        self.events = Events(self._transport)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> EntrywayClient:
        creds = Credentials.from_env(environ)
        return cls(creds.env_url, creds.client_id, creds.client_secret, **options)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> EntrywayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _key(self, token: str) -> Any:
        kid = keys.token_kid(token)
        if self._keys.should_fetch(kid):
            self._keys.load(self._transport.get_json(keys.JWKS_PATH))
        key = self._keys.get(kid)
        if key is None:
            raise keys.unknown_key(kid)
        return key

    def validate_token(self, token: str, *, audience: str | None = None, nonce: str | None = None) -> dict[str, Any]:
        """The verified claims of an ID or access token (signature, `iss`, `aud` = this client unless given, `exp`)."""
        arguments.text("token", token)
        claims = tokens.decode(
            token, self._key(token), issuer=self.env_url, audience=audience or self.client_id, leeway=self._leeway
        )
        return tokens.check_id_token(claims, self.client_id, nonce) if nonce is not None else claims

    def validate_access_token(self, token: str, *, audience: str | None = None) -> bool:
        try:
            self.validate_token(token, audience=audience)
        except TokenValidationError:
            return False
        return True

    def get_idp_initiated_login_claims(self, idp_initiated_login: str) -> IdpInitiatedLoginClaims:
        arguments.text("idp_initiated_login", idp_initiated_login)
        claims = tokens.decode(
            idp_initiated_login, self._key(idp_initiated_login), issuer=self.env_url, audience=None, leeway=self._leeway
        )
        return IdpInitiatedLoginClaims.from_claims(tokens.check_idp_initiated(claims))

    def authenticate_with_code(
        self, code: str, redirect_uri: str, *, code_verifier: str | None = None, nonce: str | None = None
    ) -> AuthenticationResult:
        form = _code_form(self.creds, code, redirect_uri, code_verifier)
        id_token, access_token, expires_in = _token_fields(self._transport.token(form))
        claims = tokens.decode(
            id_token, self._key(id_token), issuer=self.env_url, audience=self.client_id, leeway=self._leeway
        )
        tokens.check_id_token(claims, self.client_id, nonce)
        return AuthenticationResult.from_tokens(claims, id_token, access_token, expires_in)


class AsyncEntrywayClient(_LoginHelpers):
    def __init__(
        self,
        env_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        leeway: float = DEFAULT_LEEWAY,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.creds = Credentials.of(env_url, client_id, client_secret)
        self._transport = AsyncTransport(self.creds, retry=retry or RetryPolicy(), timeout=timeout, http=http_client)
        self._keys = keys.KeyCache()
        self._leeway = leeway
        self.organizations = AsyncOrganizations(self._transport)
        self.domains = AsyncDomains(self._transport)
        self.connections = AsyncConnections(self._transport)
        self.portal_links = AsyncPortalLinks(self._transport)
        self.webhooks = AsyncWebhooks(self._transport)
        self.events = AsyncEvents(self._transport)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> AsyncEntrywayClient:
        creds = Credentials.from_env(environ)
        return cls(creds.env_url, creds.client_id, creds.client_secret, **options)

    async def aclose(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> AsyncEntrywayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _key(self, token: str) -> Any:
        kid = keys.token_kid(token)
        if self._keys.should_fetch(kid):
            self._keys.load(await self._transport.get_json(keys.JWKS_PATH))
        key = self._keys.get(kid)
        if key is None:
            raise keys.unknown_key(kid)
        return key

    async def validate_token(
        self, token: str, *, audience: str | None = None, nonce: str | None = None
    ) -> dict[str, Any]:
        arguments.text("token", token)
        key = await self._key(token)
        claims = tokens.decode(
            token, key, issuer=self.env_url, audience=audience or self.client_id, leeway=self._leeway
        )
        return tokens.check_id_token(claims, self.client_id, nonce) if nonce is not None else claims

    async def validate_access_token(self, token: str, *, audience: str | None = None) -> bool:
        try:
            await self.validate_token(token, audience=audience)
        except TokenValidationError:
            return False
        return True

    async def get_idp_initiated_login_claims(self, idp_initiated_login: str) -> IdpInitiatedLoginClaims:
        arguments.text("idp_initiated_login", idp_initiated_login)
        key = await self._key(idp_initiated_login)
        claims = tokens.decode(idp_initiated_login, key, issuer=self.env_url, audience=None, leeway=self._leeway)
        return IdpInitiatedLoginClaims.from_claims(tokens.check_idp_initiated(claims))

    async def authenticate_with_code(
        self, code: str, redirect_uri: str, *, code_verifier: str | None = None, nonce: str | None = None
    ) -> AuthenticationResult:
        form = _code_form(self.creds, code, redirect_uri, code_verifier)
        id_token, access_token, expires_in = _token_fields(await self._transport.token(form))
        key = await self._key(id_token)
        claims = tokens.decode(id_token, key, issuer=self.env_url, audience=self.client_id, leeway=self._leeway)
        tokens.check_id_token(claims, self.client_id, nonce)
        return AuthenticationResult.from_tokens(claims, id_token, access_token, expires_in)
