"""Standard Webhooks verification (CONTRACT §6): an HMAC-SHA256 over "{id}.{timestamp}.{body}" with the
endpoint's `whsec_` secret, and a timestamp close to now so a captured delivery cannot be replayed later."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from entryway_sdk import arguments
from entryway_sdk.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def _secret_key(secret: str) -> bytes:
    arguments.text("secret", secret)
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the webhook secret must be whsec_ followed by base64") from exc
    if not key:
        raise WebhookVerificationError("the webhook secret is empty")
    return key


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get(name)
    if not value:
        raise WebhookVerificationError(f"the {name} header is missing")
    return value


def sign(secret: str, webhook_id: str, timestamp: int, payload: bytes) -> str:
    """The `webhook-signature` value Entryway sends (also handy for testing a webhook handler)."""
    message = f"{webhook_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(_secret_key(secret), message, hashlib.sha256).digest()).decode()


def verify(
    secret: str,
    headers: Mapping[str, str],
    payload: bytes | str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when the delivery is authentic and fresh; raises WebhookVerificationError otherwise."""
    if not isinstance(headers, Mapping):
        raise WebhookVerificationError("headers must be a mapping of the request's headers")
    body = payload.encode() if isinstance(payload, str) else payload
    if not isinstance(body, bytes):
        raise WebhookVerificationError("payload must be the raw request body (bytes or str)")
    key = _secret_key(secret)
    webhook_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not stamp.isdigit():
        raise WebhookVerificationError("the webhook-timestamp header must be unix seconds")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("the webhook timestamp is too far from now (a replay, or a wrong clock)")
    message = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    raise WebhookVerificationError("no webhook-signature matches the payload")
