"""Scalekit's own Python SDK (PyPI scalekit-sdk-python), unchanged, against Entryway: its constructor (which
fetches a client-credentials token), get_authorization_url, authenticate_with_code, validate_access_token,
get_idp_initiated_login_claims, get_logout_url and verify_webhook_payload."""

from __future__ import annotations

import base64
import json
import time

import pytest
from entryway_sdk.webhooks import sign
from scalekit import ScalekitClient
from scalekit.common.scalekit import (
    AuthorizationUrlOptions,
    CodeAuthenticationOptions,
    LogoutUrlOptions,
    TokenValidationOptions,
)

from tests.sdk.conftest import CALLBACK, POST_LOGOUT, Live
from tests.sdk.simulated_browser import idp_initiated, query, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def scalekit(live: Live) -> ScalekitClient:
    return ScalekitClient(live.base, live.seed.client_id, live.secret)


def options(**values: str) -> AuthorizationUrlOptions:
    opts = AuthorizationUrlOptions()
    for name, value in values.items():
        setattr(opts, name, value)
    return opts


def log_in(live: Live, scalekit: ScalekitClient, email: str = "jane@example.com", **selector: str) -> dict:
    url = scalekit.get_authorization_url(CALLBACK, options(state="st-1", nonce="n-1", **selector))
    landed = query(sign_in(live.browser, url, email))
    assert landed["state"] == "st-1"
    return scalekit.authenticate_with_code(landed["code"], CALLBACK, CodeAuthenticationOptions())


def test_the_constructor_gets_a_management_token(live: Live, scalekit: ScalekitClient) -> None:
    assert scalekit.core_client.access_token
    assert scalekit.validate_access_token(scalekit.core_client.access_token)


def test_login_with_login_hint(live: Live, scalekit: ScalekitClient) -> None:
    result = log_in(live, scalekit, login_hint="jane@example.com")
    assert result["user"]["email"] == "jane@example.com"
    assert result["user"]["givenName"] == "Jane" and result["user"]["familyName"] == "Doe"
    assert result["connection_id"] == live.seed.connection_id
    assert result["organization_id"] == live.seed.organization_id
    assert result["expires_in"] > 0
    assert scalekit.validate_access_token(result["access_token"])
    strict = TokenValidationOptions(issuer=live.base, audience=[live.seed.client_id])
    assert scalekit.validate_access_token(result["access_token"], options=strict)
    assert not scalekit.validate_access_token(result["access_token"][:-3] + "abc")


@pytest.mark.parametrize("selector", ["organization_id", "connection_id", "domain_hint"])
def test_login_with_each_selector(live: Live, scalekit: ScalekitClient, selector: str) -> None:
    value = {
        "organization_id": live.seed.organization_id,
        "connection_id": live.seed.connection_id,
        "domain_hint": "example.org",
    }[selector]
    result = log_in(live, scalekit, "sam@example.org", **{selector: value})
    assert result["user"]["email"] == "sam@example.org"


def test_idp_initiated_login_claims(live: Live, scalekit: ScalekitClient) -> None:
    landed = query(idp_initiated(live.browser, live.base, live.seed.connection_id, "ida@example.com"))
    claims = scalekit.get_idp_initiated_login_claims(landed["idp_initiated_login"])
    assert claims["connection_id"] == live.seed.connection_id
    assert claims["organization_id"] == live.seed.organization_id
    assert claims["login_hint"] == "ida@example.com"
    # and the app then logs the user in with those values, as Scalekit's guide says
    result = log_in(
        live, scalekit, "ida@example.com", connection_id=claims["connection_id"], login_hint="ida@example.com"
    )
    assert result["user"]["email"] == "ida@example.com"


def test_logout_url(live: Live, scalekit: ScalekitClient) -> None:
    result = log_in(live, scalekit, login_hint="jane@example.com")
    url = scalekit.get_logout_url(
        LogoutUrlOptions(id_token_hint=result["id_token"], post_logout_redirect_uri=POST_LOGOUT, state="bye")
    )
    response = live.browser.get(url)
    assert (response.status_code, response.headers["location"]) == (302, POST_LOGOUT + "?state=bye")


def test_webhook_signatures_made_like_entryways_verify(scalekit: ScalekitClient) -> None:
    secret = "whsec_" + base64.b64encode(b"a-webhook-secret-of-32-bytes!!!!").decode()
    body = json.dumps({"spec_version": "1", "id": "evt_1", "type": "organization.created"})
    now = int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret, "evt_1", now, body.encode()),
    }
    assert scalekit.verify_webhook_payload(secret, headers, body)
    headers["webhook-signature"] = sign(secret, "evt_1", now, b"{}")
    with pytest.raises(Exception):
        scalekit.verify_webhook_payload(secret, headers, body)
