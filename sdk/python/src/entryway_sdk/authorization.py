"""Building the browser-facing URLs: /oauth/authorize (CONTRACT §3.1) and /oidc/logout. No network calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from entryway_sdk import arguments, pkce
from entryway_sdk.config import Credentials
from entryway_sdk.errors import ArgumentError

AUTHORIZE_PATH = "/oauth/authorize"
LOGOUT_PATH = "/oidc/logout"
DEFAULT_SCOPES = ("openid", "profile", "email")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A login to start: send the browser to `url`; keep the rest (e.g. in a signed cookie) for the callback."""

    url: str
    redirect_uri: str
    state: str
    nonce: str
    code_verifier: str


def _scopes(scopes: Sequence[str] | None) -> str:
    if scopes is None:
        return " ".join(DEFAULT_SCOPES)
    if isinstance(scopes, str) or not all(isinstance(s, str) and s and " " not in s for s in scopes):
        raise ArgumentError("scopes must be a list of scope names, e.g. ['openid', 'profile', 'email']")
    if "openid" not in scopes:
        raise ArgumentError("scopes must include 'openid'")
    return " ".join(scopes)


def authorization_url(
    creds: Credentials,
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
    arguments.url("redirect_uri", redirect_uri, schemes=None)
    arguments.optional_resource_id("connection_id", connection_id, "conn_")
    arguments.optional_resource_id("organization_id", organization_id, "org_")
    arguments.optional_text("domain", domain)
    arguments.optional_text("domain_hint", domain_hint)
    if login_hint is not None:
        arguments.email("login_hint", login_hint)
    if not any((connection_id, organization_id, domain, domain_hint, login_hint)):
        raise ArgumentError(
            "give a connection selector: connection_id, organization_id, domain / domain_hint or login_hint"
        )
    arguments.optional_text("state", state)
    arguments.optional_text("nonce", nonce)
    arguments.optional_text("prompt", prompt)
    if code_challenge is not None:
        arguments.text("code_challenge", code_challenge)
        if code_challenge_method not in (None, "S256"):
            raise ArgumentError("code_challenge_method must be S256 (Entryway refuses plain)")
        code_challenge_method = "S256"
    elif code_challenge_method is not None:
        raise ArgumentError("code_challenge_method needs a code_challenge")
    params = {
        "response_type": "code",
        "client_id": creds.client_id,
        "redirect_uri": redirect_uri,
        "scope": _scopes(scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
        "prompt": prompt,
        "connection_id": connection_id,
        "organization_id": organization_id,
        "domain": domain,
        "domain_hint": domain_hint,
        "login_hint": login_hint,
    }
    return creds.env_url + AUTHORIZE_PATH + "?" + urlencode({k: v for k, v in params.items() if v is not None})


def authorization_request(
    creds: Credentials,
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
    """A login URL with a fresh state, nonce and PKCE verifier (what an app should normally use)."""
    state, nonce, verifier = pkce.random_token(), pkce.random_token(), pkce.code_verifier()
    url = authorization_url(
        creds,
        redirect_uri,
        connection_id=connection_id,
        organization_id=organization_id,
        domain=domain,
        domain_hint=domain_hint,
        login_hint=login_hint,
        state=state,
        nonce=nonce,
        code_challenge=pkce.code_challenge(verifier),
        scopes=scopes,
        prompt=prompt,
    )
    return AuthorizationRequest(url, redirect_uri, state, nonce, verifier)


def logout_url(
    creds: Credentials,
    *,
    id_token_hint: str | None = None,
    post_logout_redirect_uri: str | None = None,
    state: str | None = None,
) -> str:
    arguments.optional_text("id_token_hint", id_token_hint)
    if post_logout_redirect_uri is not None:
        arguments.url("post_logout_redirect_uri", post_logout_redirect_uri, schemes=None)
    arguments.optional_text("state", state)
    params = {"id_token_hint": id_token_hint, "post_logout_redirect_uri": post_logout_redirect_uri, "state": state}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return creds.env_url + LOGOUT_PATH + (f"?{query}" if query else "")
