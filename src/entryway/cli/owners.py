"""`entryway owners add|list|remove|set-password`: who may sign in to an environment's dashboard."""

from __future__ import annotations

import click

from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option
from entryway.cli.output import table
from entryway.services import owners


@click.group("owners")
def owners_group() -> None:
    """Dashboard owners: sign in at <environment URL>/dashboard with an email and a password (argon2id-hashed)."""


def _password() -> str:
    return str(click.prompt("Password (12 characters or more)", hide_input=True, confirmation_prompt=True))


@owners_group.command("add")
@click.option("--email", required=True, help="The owner's email (their sign-in name).")
@env_option
@click.pass_obj
def add(obj: CliContext, email: str, env_id: str | None) -> None:
    """Add an owner; the password is asked for (twice) and never echoed."""
    env = obj.environment(env_id)
    password = _password()
    rt = obj.runtime()
    with writing(rt) as conn:
        owner = owners.add_owner(rt, conn, env.id, email, password)
    click.echo(f"{owner.email} ({owner.id}) may now sign in at {env.url}/dashboard")


@owners_group.command("list")
@env_option
@click.pass_obj
def list_command(obj: CliContext, env_id: str | None) -> None:
    """List the environment's owners."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        found = owners.list_owners(conn, env.id)
    table(
        ["id", "email", "created", "last sign-in"], [[o.id, o.email, o.create_time, o.last_sign_in_time] for o in found]
    )


@owners_group.command("set-password")
@click.option("--email", required=True)
@env_option
@click.pass_obj
def set_password(obj: CliContext, email: str, env_id: str | None) -> None:
    """Set a new password for an owner (their signed-in sessions stay until they end)."""
    env = obj.environment(env_id)
    password = _password()
    rt = obj.runtime()
    with writing(rt) as conn:
        owners.set_password(rt, conn, env.id, email, password)
    click.echo(f"password of {owners.normalize_email(email)} changed")


@owners_group.command("remove")
@click.option("--email", required=True)
@env_option
@click.pass_obj
def remove(obj: CliContext, email: str, env_id: str | None) -> None:
    """Remove an owner."""
    env = obj.environment(env_id)
    with writing(obj.runtime()) as conn:
        owners.remove_owner(conn, env.id, email)
    click.echo(f"{owners.normalize_email(email)} removed")
