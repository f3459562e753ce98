"""Token-endpoint client authentication (RFC 6749 §2.3.1): client_secret_basic or client_secret_post.

Only an `Authorization: Basic` header counts as client_secret_basic: SDKs that post the secret in the body
may also send `Authorization: Bearer …` and other headers, which are ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_plus

from starlette.datastructures import Headers

from entryway.model.errors import OAuthError
from entryway.oidc_provider.params import MultiParams, single
from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.credentials import Client
from entryway.services.environments import Environment

_CLIENT_ID = re.compile(r"^skc_[0-9a-z]{1,60}$")


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def _basic_credentials(headers: Headers) -> tuple[str, str] | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid_client("The Basic authorization header is not valid base64 of client_id:client_secret") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_client("The Basic authorization header must carry client_id:client_secret")
    # §2.3.1: both parts are form-urlencoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate(rt: Runtime, env: Environment, headers: Headers, form: MultiParams) -> Client:
    """The authenticated client of this environment, or an OAuthError (invalid_request / invalid_client)."""
    basic = _basic_credentials(headers)
    form_id = single(form, "client_id")
    form_secret = single(form, "client_secret")
    if basic is not None:
        if form_secret is not None:
            raise OAuthError(
                "invalid_request", "Use one client authentication method: Basic header or client_secret, not both"
            )
        client_id, secret = basic
        if form_id is not None and form_id != client_id:
            raise OAuthError("invalid_request", "client_id in the body differs from the Basic authorization header")
    elif form_id is not None and form_secret is not None:
        client_id, secret = form_id, form_secret
    else:
        raise _invalid_client("Authenticate the client with client_id and client_secret (post or Basic)")
    if not _CLIENT_ID.match(client_id):
        raise _invalid_client("Client authentication failed")
    client = credentials.authenticate_client(rt, client_id, secret)
    if client is None or client.environment_id != env.id:
        raise _invalid_client("Client authentication failed")
    return client


def claimed_client_id(headers: Headers, form: MultiParams) -> str | None:
    """The client ID a token request names (Basic header first), before it is authenticated; for counting."""
    try:
        basic = _basic_credentials(headers)
    except OAuthError:
        basic = None
    if basic is not None:
        return basic[0]
    values = form.getlist("client_id")
    return values[0] if len(values) == 1 and isinstance(values[0], str) and values[0] else None


def looks_like_client_id(value: str) -> bool:
    """Cheap shape check before a database lookup."""
    return _CLIENT_ID.match(value) is not None
