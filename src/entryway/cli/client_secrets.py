"""`entryway secrets list|create|deactivate|activate|delete` (of the app client unless --client is given)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.services import credentials, environments
from entryway.services.credentials import Client

client_option = click.option(
    "--client", "client_id", default=None, metavar="CLIENT_ID", help="The client (default: the app client)."
)


def _client(obj: CliContext, env_id: str | None, client_id: str | None) -> Client:
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        return credentials.environment_client(conn, env.id, client_id or environments.app_client_id(conn, env.id))


@click.group("secrets")
def secrets_group() -> None:
    """Client secrets: shown once at creation, stored only as a hash, identified by their last 4 characters."""


@secrets_group.command("list")
@client_option
@env_option
@json_option
@click.pass_obj
def list_secrets(obj: CliContext, client_id: str | None, env_id: str | None, as_json: bool) -> None:
    """List a client's secrets."""
    client = _client(obj, env_id, client_id)
    with obj.runtime().engine.connect() as conn:
        items = [view.secret(s) for s in credentials.list_secrets(conn, client.id)]
    for item in items:
        item["ending"] = "…" + item["secret_suffix"]
    show_list(
        items,
        as_json,
        "secrets",
        ["id", "ending", "status", "created", "last used", "expires"],
        ["id", "ending", "status", "create_time", "last_used_time", "expire_time"],
    )


@secrets_group.command("create")
@click.option("--expires", type=click.DateTime(), default=None, help="Expiry (UTC), e.g. 2026-12-31T00:00:00.")
@client_option
@env_option
@json_option
@click.pass_obj
def create_secret(
    obj: CliContext, expires: datetime | None, client_id: str | None, env_id: str | None, as_json: bool
) -> None:
    """Create a secret and print it (this once only)."""
    client = _client(obj, env_id, client_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        plain, created = credentials.create_secret(
            rt, conn, client, expire_time=expires.replace(tzinfo=UTC) if expires else None, created_by="cli"
        )
    if as_json:
        emit_json({"plain_secret": plain, "secret": view.secret(created)})
        return
    click.echo(f"ENTRYWAY_CLIENT_ID={client.id}")
    click.echo(f"ENTRYWAY_CLIENT_SECRET={plain}")
    click.echo("")
    click.echo(f"Secret {created.id} is shown only this once; Entryway keeps only its hash.")


def _set_status(
    obj: CliContext, secret_id: str, status: str, client_id: str | None, env_id: str | None, as_json: bool
) -> None:
    client = _client(obj, env_id, client_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        changed = credentials.set_secret_status(rt, conn, client, secret_id, status)
    show(view.secret(changed), as_json)


@secrets_group.command("deactivate")
@click.argument("secret_id")
@client_option
@env_option
@json_option
@click.pass_obj
def deactivate(obj: CliContext, secret_id: str, client_id: str | None, env_id: str | None, as_json: bool) -> None:
    """Deactivate SECRET_ID (it stops working at once; it can be reactivated)."""
    _set_status(obj, secret_id, "INACTIVE", client_id, env_id, as_json)


@secrets_group.command("activate")
@click.argument("secret_id")
@client_option
@env_option
@json_option
@click.pass_obj
def activate(obj: CliContext, secret_id: str, client_id: str | None, env_id: str | None, as_json: bool) -> None:
    """Reactivate SECRET_ID."""
    _set_status(obj, secret_id, "ACTIVE", client_id, env_id, as_json)


@secrets_group.command("delete")
@click.argument("secret_id")
@client_option
@env_option
@click.pass_obj
def delete(obj: CliContext, secret_id: str, client_id: str | None, env_id: str | None) -> None:
    """Delete SECRET_ID for good."""
    client = _client(obj, env_id, client_id)
    with writing(obj.runtime()) as conn:
        credentials.delete_secret(conn, client, secret_id)
    click.echo(f"deleted secret {secret_id}")
