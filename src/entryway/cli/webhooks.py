"""`entryway webhooks …`: endpoints, deliveries, replay and test events, and the delivery worker itself."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click

from entryway.api import webhook_views as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list, table
from entryway.events import delivery, endpoints
from entryway.events.certificate_expiry import scan_certificates
from entryway.events.types import EVENT_TYPES
from entryway.events.worker import DeliveryWorker


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook endpoints: where Entryway sends events, signed the Standard Webhooks way (docs/webhooks.md)."""


def _secret_note(secret: str) -> None:
    click.echo("")
    click.echo(f"Signing secret (shown only now): {secret}")
    click.echo("Verify each delivery with it: docs/webhooks.md shows how.")


@webhooks_group.command("create")
@click.argument("url")
@click.option(
    "--event",
    "event_types",
    multiple=True,
    required=True,
    metavar="TYPE",
    help="An event type to send (repeat; `entryway webhooks event-types` lists them, `all` for every one).",
)
@click.option("--description", default=None)
@env_option
@json_option
@click.pass_obj
def create(
    obj: CliContext, url: str, event_types: tuple[str, ...], description: str | None, env_id: str | None, as_json: bool
) -> None:
    """Register URL to receive events; prints the endpoint and its secret (shown once)."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    types = list(EVENT_TYPES) if "all" in event_types else list(event_types)
    with writing(rt) as conn:
        created, secret = endpoints.create_endpoint(rt, conn, env, url=url, event_types=types, description=description)
    if as_json:
        show({"webhook": view.endpoint(created), "secret": secret}, True)
        return
    show(view.endpoint(created), False)
    _secret_note(secret)


@webhooks_group.command("list")
@env_option
@json_option
@click.pass_obj
def list_webhooks(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """List the environment's webhook endpoints."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        items = [view.endpoint(e) for e in endpoints.list_endpoints(conn, env.id)]
    show_list(items, as_json, "webhooks", ["id", "status", "url", "events"], ["id", "status", "url", "event_types"])


@webhooks_group.command("show")
@click.argument("webhook_id")
@env_option
@json_option
@click.pass_obj
def show_webhook(obj: CliContext, webhook_id: str, env_id: str | None, as_json: bool) -> None:
    """Show one endpoint."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        found = endpoints.get_endpoint(conn, env.id, webhook_id)
    show(view.endpoint(found), as_json)


@webhooks_group.command("update")
@click.argument("webhook_id")
@click.option("--url", default=None)
@click.option("--event", "event_types", multiple=True, metavar="TYPE", help="Replace the subscribed types.")
@click.option("--description", default=None)
@click.option("--enable/--disable", "enabled", default=None, help="Enable (also after failing) or disable it.")
@env_option
@json_option
@click.pass_obj
def update_webhook(
    obj: CliContext,
    webhook_id: str,
    url: str | None,
    event_types: tuple[str, ...],
    description: str | None,
    enabled: bool | None,
    env_id: str | None,
    as_json: bool,
) -> None:
    """Change an endpoint's URL, event types, description or status."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    changes: dict[str, object] = {}
    if url is not None:
        changes["url"] = url
    if event_types:
        changes["event_types"] = list(EVENT_TYPES) if "all" in event_types else list(event_types)
    if description is not None:
        changes["description"] = description
    if enabled is not None:
        changes["status"] = "ENABLED" if enabled else "DISABLED"
    with writing(rt) as conn:
        changed = endpoints.update_endpoint(rt, conn, env, webhook_id, changes)
    show(view.endpoint(changed), as_json)


@webhooks_group.command("delete")
@click.argument("webhook_id")
@env_option
@click.pass_obj
def delete_webhook(obj: CliContext, webhook_id: str, env_id: str | None) -> None:
    """Delete an endpoint and its delivery history."""
    env = obj.environment(env_id)
    with writing(obj.runtime()) as conn:
        endpoints.delete_endpoint(conn, env.id, webhook_id)
    click.echo(f"deleted {webhook_id}")


@webhooks_group.command("rotate-secret")
@click.argument("webhook_id")
@env_option
@json_option
@click.pass_obj
def rotate(obj: CliContext, webhook_id: str, env_id: str | None, as_json: bool) -> None:
    """Make a new signing secret; the old one keeps signing (a second signature) for 24 hours."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        changed, secret = endpoints.rotate_secret(rt, conn, env.id, webhook_id)
    if as_json:
        show({"webhook": view.endpoint(changed), "secret": secret}, True)
        return
    show(view.endpoint(changed), False)
    _secret_note(secret)


def _show_delivery(obj: CliContext, env_id: str, webhook_id: str, delivery_id: str, as_json: bool) -> None:
    with obj.runtime().engine.connect() as conn:
        found = delivery.get_delivery(conn, env_id, webhook_id, delivery_id)
        attempts = delivery.attempts_of(conn, delivery_id)
    data = view.delivery(found, attempts)
    if as_json:
        show({"delivery": data}, True)
        return
    show(data, False, skip=("attempts",))
    click.echo("")
    table(
        ["#", "trigger", "outcome", "status", "ms", "at", "error"],
        [
            [a["attempt"], a["trigger"], a["outcome"], a["status_code"], a["latency_ms"], a["create_time"], a["error"]]
            for a in data["attempts"]
        ],
    )


@webhooks_group.command("test")
@click.argument("webhook_id")
@env_option
@json_option
@click.pass_obj
def test_webhook(obj: CliContext, webhook_id: str, env_id: str | None, as_json: bool) -> None:
    """Send a webhook.test event to the endpoint now and show what it answered."""
    env = obj.environment(env_id)
    delivery_id = delivery.send_test(obj.runtime(), env.id, webhook_id)
    _show_delivery(obj, env.id, webhook_id, delivery_id, as_json)


@webhooks_group.command("deliveries")
@click.argument("webhook_id")
@click.option("--status", type=click.Choice(["PENDING", "SUCCEEDED", "FAILED"]), default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@env_option
@json_option
@click.pass_obj
def list_deliveries(
    obj: CliContext, webhook_id: str, status: str | None, limit: int, env_id: str | None, as_json: bool
) -> None:
    """An endpoint's deliveries, newest first."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        endpoints.get_endpoint(conn, env.id, webhook_id)
        items = [
            view.delivery(d) for d in delivery.list_deliveries(conn, env.id, webhook_id, status=status, limit=limit)
        ]
    show_list(
        items,
        as_json,
        "deliveries",
        ["id", "event", "status", "attempts", "last status", "next attempt"],
        ["id", "event_type", "status", "attempt_count", "last_status_code", "next_attempt_time"],
    )


@webhooks_group.command("delivery")
@click.argument("webhook_id")
@click.argument("delivery_id")
@env_option
@json_option
@click.pass_obj
def show_delivery(obj: CliContext, webhook_id: str, delivery_id: str, env_id: str | None, as_json: bool) -> None:
    """One delivery and every attempt (status, latency, the receiver's answer or the error)."""
    env = obj.environment(env_id)
    _show_delivery(obj, env.id, webhook_id, delivery_id, as_json)


@webhooks_group.command("replay")
@click.argument("webhook_id")
@click.argument("delivery_id")
@env_option
@json_option
@click.pass_obj
def replay(obj: CliContext, webhook_id: str, delivery_id: str, env_id: str | None, as_json: bool) -> None:
    """Send a delivery again now (same webhook-id), and show the attempt."""
    env = obj.environment(env_id)
    delivery.replay(obj.runtime(), env.id, webhook_id, delivery_id)
    _show_delivery(obj, env.id, webhook_id, delivery_id, as_json)


@webhooks_group.command("event-types")
def event_types() -> None:
    """The event types an endpoint can subscribe to."""
    table(["type", "data", "meaning"], [[name, obj, text] for name, (obj, text) in EVENT_TYPES.items()])


@webhooks_group.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for cron or a one-off drain).")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def deliver(obj: CliContext, once: bool, concurrency: int) -> None:
    """Run the delivery worker in the foreground (the certificate scan is a job of `entryway serve`). Ctrl-C stops it.

    `entryway serve` already runs one per process unless ENTRYWAY_WEBHOOK_WORKER=0; any number may run at once.
    """
    rt = obj.runtime()
    counts = {"SUCCEEDED": 0, "PENDING": 0, "FAILED": 0, "LEASE_LOST": 0}
    lock = threading.Lock()

    def progress(delivery_id: str, status: str) -> None:
        with lock:
            counts[status] = counts.get(status, 0) + 1
            click.echo(f"{delivery_id}  {status.lower()}", err=True)

    worker = DeliveryWorker(rt, concurrency=concurrency, on_attempt=progress)
    if once:
        while worker.run_once():
            pass
        worker.stop()
    else:

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo("delivering webhooks; Ctrl-C to stop", err=True)
        worker.start()
        while worker.running:
            time.sleep(0.2)
        worker.stop()
    click.echo(f"delivered {counts['SUCCEEDED']}, to retry {counts['PENDING']}, failed for good {counts['FAILED']}")


@webhooks_group.command("scan-certificates")
@click.pass_obj
def scan(obj: CliContext) -> None:
    """Emit the expiring/expired IdP certificate events now (the worker does this hourly)."""
    notices = scan_certificates(obj.runtime())
    for n in notices:
        click.echo(f"{n.connection_id}  {n.fingerprint_sha256[:16]}…  {n.stage}  {n.event_id}")
    click.echo(f"{len(notices)} new certificate events")
