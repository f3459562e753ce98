"""The dashboard's webhooks page against a real HTTP receiver on loopback: an endpoint added once with its
secret shown once, incomplete forms, a test event signed the Standard Webhooks way, replay, disable."""

from __future__ import annotations

import re
from dataclasses import replace

import standardwebhooks
from sqlalchemy import func, select

from entryway.runtime import Runtime
from entryway.store.tables import webhook_attempts, webhook_endpoints
from tests.dashboard.conftest import Browser, hidden
from tests.events.receiver import receiver


def _count(rt: Runtime, table) -> int:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_incomplete_endpoint_form_says_what_is_missing(browser: Browser, rt: Runtime) -> None:
    response = browser.submit("/dashboard/webhooks", "/dashboard/webhooks", {"url": "https://hooks.example.com/x"})
    assert response.status_code == 400 and "Enter at least one event type." in response.text
    assert 'value="https://hooks.example.com/x"' in response.text  # what was typed is kept
    private = browser.submit(
        "/dashboard/webhooks", "/dashboard/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": "sso.login_failed"}
    )
    assert private.status_code == 400  # private addresses are refused unless the operator allows them
    assert _count(rt, webhook_endpoints) == 0


def test_add_once_test_replay_and_disable(browser: Browser, rt: Runtime) -> None:
    rt.settings = replace(rt.settings, allow_private_fetch=True, webhook_timeout_seconds=2.0)
    with receiver() as hook:
        html = browser.get("/dashboard/webhooks").text
        tokens = {"csrf_token": hidden(html, "csrf_token"), "submission": hidden(html, "submission")}
        data = {"url": hook.url, "event_types": "sso.login_failed", "description": "alerts"}
        first = browser.submit("", "/dashboard/webhooks", data, reuse=tokens)
        second = browser.submit("", "/dashboard/webhooks", data, reuse=tokens)
        assert first.status_code == 200 and second.status_code == 409
        assert _count(rt, webhook_endpoints) == 1
        secret = re.search(r'<code id="plain-secret">([^<]+)</code>', first.text)
        assert secret and secret.group(1).startswith("whsec_")
        endpoint_id = re.search(r"<code>(wh_[^<]+)</code>", first.text).group(1)  # type: ignore[union-attr]
        page = f"/dashboard/webhooks/{endpoint_id}"
        assert secret.group(1) not in browser.get(page).text

        sent = browser.submit(page, page, {"action": "test"})
        assert sent.status_code == 303
        hook.wait_for(1)
        payload = standardwebhooks.Webhook(secret.group(1)).verify(hook.received[0].body, hook.received[0].headers)
        assert payload["type"] == "webhook.test"
        html = browser.get(page).text
        assert "webhook.test" in html and "A webhook.test event was sent now" not in html
        delivery_id = re.search(r'name="delivery_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        replayed = browser.submit(page, page, {"action": "replay", "delivery_id": delivery_id})
        assert replayed.status_code == 303
        hook.wait_for(2)
        assert hook.received[1].headers["webhook-id"] == hook.received[0].headers["webhook-id"]
        assert _count(rt, webhook_attempts) == 2

    disabled = browser.submit(page, page, {"action": "disable"})
    assert disabled.status_code == 303
    assert "DISABLED" in browser.get(page).text
    gone = browser.submit(page, page, {"action": "replay", "delivery_id": "dlv_missing"})
    assert gone.status_code == 404
