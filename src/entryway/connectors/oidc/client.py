"""The relying party's requests to the IdP: the authorization request (a browser redirect), the code
exchange at the token endpoint (RFC 6749 §4.1.3, OIDC Core §3.1.3) and the userinfo request (§5.3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from entryway.connectors.oidc.discovery import ProviderConfig
from entryway.connectors.oidc.fetch import FetchError, request_json
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.outbound import OutboundPolicy
from entryway.services.environments import Environment
from entryway.web.urls import with_query

MAX_IDP_TEXT = 200
DEFAULT_SCOPES = ("openid", "profile", "email")


def redirect_uri(env_url: str, connection_id: str) -> str:
    return f"{env_url}/sso/v1/oidc/{connection_id}/callback"


def connection_redirect_uri(connection: SsoConnection, env: Environment) -> str:
    """The redirect URI registered at the IdP: fixed when the connection was created (CONTRACT §4), so a custom
    domain verified later does not change it. Connections stored before it was recorded were made on the
    environment's own URL."""
    stored = connection.oidc_config.get("redirect_uri")
    if isinstance(stored, str) and stored:
        return stored
    return redirect_uri(env.base_url or env.url, connection.id)


def connection_base_url(connection: SsoConnection, env: Environment) -> str:
    """The environment URL the connection's IdP-facing URLs (callback, logout landing) were fixed at."""
    return connection_redirect_uri(connection, env).removesuffix(f"/sso/v1/oidc/{connection.id}/callback")


def scopes_of(config: dict[str, Any]) -> list[str]:
    scopes = [s for s in config.get("scopes") or DEFAULT_SCOPES if isinstance(s, str)]
    return scopes if "openid" in scopes else ["openid", *scopes]


def authorization_url(
    provider: ProviderConfig,
    config: dict[str, Any],
    *,
    callback: str,
    state: str,
    nonce: str,
    code_challenge: str | None,
    login_hint: str | None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": str(config.get("client_id", "")),
        "redirect_uri": callback,
        "scope": " ".join(scopes_of(config)),
        "state": state,
        "nonce": nonce,
    }
    if code_challenge is not None:
        params.update(code_challenge=code_challenge, code_challenge_method="S256")
    if login_hint:
        params["login_hint"] = login_hint
    return with_query(provider.authorization_endpoint, params)


def _short(value: Any) -> str | None:
    return value[:MAX_IDP_TEXT] if isinstance(value, str) else None


def exchange_code(
    provider: ProviderConfig,
    config: dict[str, Any],
    client_secret: str | None,
    *,
    code: str,
    callback: str,
    code_verifier: str | None,
    policy: OutboundPolicy,
) -> dict[str, Any]:
    client_id = str(config.get("client_id", ""))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    auth: tuple[str, str] | None = None
    if config.get("token_auth_type") == "BASIC_AUTH":
        # RFC 6749 §2.3.1: each part is form-urlencoded before the two are joined.
        auth = (quote(client_id, safe=""), quote(client_secret or "", safe=""))
    else:
        form["client_id"] = client_id
        if client_secret is not None:
            form["client_secret"] = client_secret
    try:
        answer = request_json(
            "POST", provider.token_endpoint, policy=policy, data=form, auth=auth, accept_error_body=True
        )
    except FetchError as exc:
        diagnosis = dict(exc.diagnosis)
        if exc.body:
            diagnosis["idp_error"] = _short(exc.body.get("error"))
            diagnosis["idp_error_description"] = _short(exc.body.get("error_description"))
        message = "The IdP refused to exchange the code for tokens"
        if exc.body and exc.body.get("error") == "invalid_client":
            message += ": check the connection's client ID, client secret and token auth type"
        raise LoginError("failed_to_exchange_token", message, diagnosis) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("id_token"), str):
        raise LoginError.wanted_got(
            "failed_to_exchange_token",
            "The IdP's token response has no ID token: is the openid scope allowed for this client?",
            "a JSON object with id_token",
            sorted(answer)[:20] if isinstance(answer, dict) else type(answer).__name__,
        )
    token_type = answer.get("token_type")
    if answer.get("access_token") is not None and (not isinstance(token_type, str) or token_type.lower() != "bearer"):
        raise LoginError.wanted_got(
            "failed_to_exchange_token", "The IdP issued a token type Entryway cannot use", "Bearer", _short(token_type)
        )
    return answer


def fetch_userinfo(provider: ProviderConfig, access_token: str, *, policy: OutboundPolicy) -> dict[str, Any]:
    assert provider.userinfo_endpoint is not None
    try:
        answer = request_json(
            "GET",
            provider.userinfo_endpoint,
            policy=policy,
            headers={"authorization": f"Bearer {access_token}"},
        )
    except FetchError as exc:
        raise LoginError("user_info_retrieve_failed", "The IdP's userinfo endpoint failed", exc.diagnosis) from exc
    if not isinstance(answer, dict):
        raise LoginError.wanted_got(
            "user_info_retrieve_failed",
            "The IdP's userinfo answer is not a JSON object",
            "a JSON object",
            type(answer).__name__,
        )
    return answer
