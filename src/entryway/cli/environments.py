"""`entryway env list|create`."""

from __future__ import annotations

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import json_option
from entryway.cli.output import show, show_list
from entryway.model.environments import EnvironmentType
from entryway.services import environments


@click.group("env")
def env_group() -> None:
    """Environments (development or production), each with its own URL, client and keys."""


@env_group.command("list")
@json_option
@click.pass_obj
def list_environments(obj: CliContext, as_json: bool) -> None:
    """List the environments."""
    with obj.runtime().engine.connect() as conn:
        every = environments.list_environments(conn)
        clients = {e.id: environments.app_client_id(conn, e.id) for e in every}
    items = [{**view.environment(e), "client_id": clients[e.id]} for e in every]
    show_list(
        items,
        as_json,
        "environments",
        ["id", "type", "url", "name", "client id"],
        ["id", "type", "url", "display_name", "client_id"],
    )


@env_group.command("create")
@click.option(
    "--type", "env_type", type=click.Choice([t.value for t in EnvironmentType]), required=True, help="Environment type."
)
@click.option("--url", required=True, help="The environment URL (the OIDC issuer), e.g. https://sso.acme.com.")
@click.option("--name", "display_name", default=None, help="A display name (default: the type).")
@json_option
@click.pass_obj
def create_environment(obj: CliContext, env_type: str, url: str, display_name: str | None, as_json: bool) -> None:
    """Create an environment with its app client and signing keys."""
    rt = obj.runtime()
    kind = EnvironmentType(env_type)
    with writing(rt) as conn:
        env, client_id = environments.create_environment(
            rt, conn, env_type=kind, url=url, display_name=display_name or kind.value.capitalize()
        )
    data = {**view.environment(env), "client_id": client_id}
    show(data, as_json)
    if not as_json:
        click.echo("")
        click.echo("Add a callback URL with `entryway redirect-uris add URL --env " + env.id + "`,")
        click.echo("and a client secret with `entryway secrets create --env " + env.id + "`.")
