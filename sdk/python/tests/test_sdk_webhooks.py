"""Standard Webhooks verification."""

from __future__ import annotations

import base64
import time

import pytest

from entryway_sdk import EntrywayClient, WebhookVerificationError
from entryway_sdk.webhooks import sign
from sdk_fakes import CLIENT_ID, ENV_URL, SECRET

WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = b'{"spec_version":"1","id":"evt_1","type":"organization.created"}'


def headers(timestamp: int | None = None, secret: str = WHSEC, body: bytes = BODY) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": sign(secret, "msg_1", stamp, body),
    }


@pytest.fixture
def client() -> EntrywayClient:
    return EntrywayClient(ENV_URL, CLIENT_ID, SECRET)


def test_an_authentic_delivery_verifies(client: EntrywayClient) -> None:
    assert client.verify_webhook_payload(WHSEC, headers(), BODY)
    assert client.verify_webhook_payload(WHSEC, headers(), BODY.decode())


def test_any_of_several_signatures_may_match(client: EntrywayClient) -> None:
    given = headers()
    given["Webhook-Signature"] = "v1,bm90IGl0 " + given["Webhook-Signature"]
    assert client.verify_webhook_payload(WHSEC, given, BODY)


@pytest.mark.parametrize(
    ("given", "payload", "message"),
    [
        (lambda: headers(), BODY + b" ", "no webhook-signature"),
        (lambda: headers(secret="whsec_" + base64.b64encode(b"other").decode()), BODY, "no webhook-signature"),
        (lambda: headers(timestamp=int(time.time()) - 3600), BODY, "too far"),
        (lambda: headers(timestamp=int(time.time()) + 3600), BODY, "too far"),
        (lambda: {k: v for k, v in headers().items() if k != "Webhook-Id"}, BODY, "webhook-id"),
        (lambda: {**headers(), "Webhook-Timestamp": "soon"}, BODY, "unix seconds"),
        (lambda: {**headers(), "Webhook-Signature": "v2," + headers()["Webhook-Signature"][3:]}, BODY, "no webhook"),
    ],
)
def test_forged_stale_or_incomplete_deliveries_are_refused(client: EntrywayClient, given, payload, message) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        client.verify_webhook_payload(WHSEC, given(), payload)


def test_a_malformed_secret_is_refused(client: EntrywayClient) -> None:
    with pytest.raises(WebhookVerificationError, match="base64"):
        client.verify_webhook_payload("whsec_***", headers(), BODY)
