"""`entryway api-clients create|list`: machine-to-machine clients for the management API."""

from __future__ import annotations

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show_list
from entryway.model.scopes import ALL_SCOPES, MANAGEMENT_SCOPES
from entryway.services import credentials


@click.group("api-clients")
def api_clients_group() -> None:
    """Clients for the management API (client_credentials), each limited to some scopes."""


@api_clients_group.command("create")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([*MANAGEMENT_SCOPES, ALL_SCOPES]),
    help="A scope the client may use (repeat the option; * = every scope).",
)
@click.option("--name", default="API client", show_default=True, help="A name to recognise it by.")
@env_option
@json_option
@click.pass_obj
def create(obj: CliContext, scopes: tuple[str, ...], name: str, env_id: str | None, as_json: bool) -> None:
    """Create an API client and its first secret; print both (the secret only this once)."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        client = credentials.create_api_client(rt, conn, env.id, name, list(scopes))
        plain, secret = credentials.create_secret(rt, conn, client, created_by="cli")
    if as_json:
        emit_json({"client": view.client(client), "plain_secret": plain, "secret": view.secret(secret)})
        return
    click.echo(f"client id:  {client.id}")
    click.echo(f"secret:     {plain}")
    click.echo(f"scopes:     {' '.join(client.scopes)}")
    click.echo("")
    click.echo(
        f"The secret is shown only this once. Get tokens with grant_type=client_credentials at {env.url}/oauth/token."
    )


@api_clients_group.command("list")
@env_option
@json_option
@click.pass_obj
def list_clients(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """List the environment's clients (the app client and API clients)."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        items = [view.client(c) for c in credentials.list_clients(conn, env.id)]
    show_list(items, as_json, "clients", ["id", "kind", "name", "scopes"], ["id", "kind", "name", "scopes"])
