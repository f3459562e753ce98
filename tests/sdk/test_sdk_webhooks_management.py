"""The SDK's webhook resource against a real server, delivering to a real receiver the SDK then verifies."""

from __future__ import annotations

from dataclasses import replace

import pytest
from entryway_sdk import ArgumentError, ConflictError, InvalidArgumentError, NotFoundError

from entryway.events import delivery
from entryway.runtime import Runtime
from tests.events.receiver import receiver
from tests.sdk.conftest import Live


@pytest.fixture
def loopback_allowed(rt: Runtime) -> None:
    rt.settings = replace(rt.settings, allow_private_fetch=True, webhook_timeout_seconds=2.0)


def test_register_deliver_verify_replay_and_rotate(rt: Runtime, live: Live, loopback_allowed: None) -> None:
    sdk = live.client
    with receiver() as hook:
        made = sdk.webhooks.create(hook.url, ["organization.created"], description="backend")
        assert made.secret.startswith("whsec_") and made.webhook.status == "ENABLED"
        with pytest.raises(ConflictError):
            sdk.webhooks.create(hook.url, ["organization.created"])
        org = sdk.organizations.create("Acme")
        delivery.deliver_due(rt)
        [got] = hook.received
        assert sdk.verify_webhook_payload(made.secret, got.headers, got.body)
        [sent] = sdk.webhooks.list_deliveries(made.webhook.id, status="SUCCEEDED").items
        assert sent.event_type == "organization.created"
        again = sdk.webhooks.replay(made.webhook.id, sent.id)
        assert [a.trigger for a in again.attempts] == ["scheduled", "replay"]
        test = sdk.webhooks.send_test(made.webhook.id)
        assert test.status == "SUCCEEDED" and test.attempts[0].status_code == 200
        rotated = sdk.webhooks.rotate_secret(made.webhook.id)
        sdk.webhooks.send_test(made.webhook.id)
        newest = hook.received[-1]
        assert sdk.verify_webhook_payload(rotated.secret, newest.headers, newest.body)
        assert sdk.verify_webhook_payload(made.secret, newest.headers, newest.body)  # the overlap day
    events = sdk.events.list(organization_id=org.id)
    assert [e.type for e in events.items] == ["organization.created"]
    assert sdk.events.get(events.items[0].id).data["id"] == org.id
    assert sdk.webhooks.update(made.webhook.id, status="DISABLED").status == "DISABLED"
    assert [w.id for w in sdk.webhooks.list_all()] == [made.webhook.id]
    sdk.webhooks.delete(made.webhook.id)
    with pytest.raises(NotFoundError):
        sdk.webhooks.get(made.webhook.id)


def test_bad_input_is_refused_before_or_by_the_server(live: Live) -> None:
    sdk = live.client
    with pytest.raises(ArgumentError):
        sdk.webhooks.create("not a url", ["organization.created"])
    with pytest.raises(ArgumentError):
        sdk.webhooks.create("https://example.com/h", [])
    with pytest.raises(InvalidArgumentError) as refused:
        sdk.webhooks.create("https://127.0.0.1/h", ["organization.created"])
    assert "url" in {v.field for v in refused.value.field_violations}
