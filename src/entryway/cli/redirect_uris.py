"""`entryway redirect-uris list|add|remove` and `entryway initiate-login set|clear`."""

from __future__ import annotations

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.model.environments import RedirectKind
from entryway.services import environments

kind_option = click.option(
    "--kind",
    type=click.Choice([RedirectKind.CALLBACK.value, RedirectKind.POST_LOGOUT.value]),
    default=RedirectKind.CALLBACK.value,
    show_default=True,
    help="Callback URL (after login) or post-logout URL.",
)


@click.group("redirect-uris")
def redirect_uris_group() -> None:
    """The environment's allow-lists of callback and post-logout URLs (exact match)."""


@redirect_uris_group.command("list")
@click.option("--kind", type=click.Choice([k.value for k in RedirectKind]), default=None, help="Only this kind.")
@env_option
@json_option
@click.pass_obj
def list_uris(obj: CliContext, kind: str | None, env_id: str | None, as_json: bool) -> None:
    """List the registered URLs."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        uris = environments.list_redirect_uris(conn, env.id, RedirectKind(kind) if kind else None)
    show_list(
        [view.redirect_uri(u) for u in uris],
        as_json,
        "redirect_uris",
        ["kind", "uri", "default"],
        ["kind", "uri", "default"],
    )


@redirect_uris_group.command("add")
@click.argument("uri")
@kind_option
@env_option
@json_option
@click.pass_obj
def add_uri(obj: CliContext, uri: str, kind: str, env_id: str | None, as_json: bool) -> None:
    """Register URI."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        added = environments.add_redirect_uri(rt, conn, env, RedirectKind(kind), uri)
    show(view.redirect_uri(added), as_json)


@redirect_uris_group.command("remove")
@click.argument("uri")
@kind_option
@env_option
@click.pass_obj
def remove_uri(obj: CliContext, uri: str, kind: str, env_id: str | None) -> None:
    """Remove URI (the last callback URL cannot be removed)."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        environments.remove_redirect_uri(rt, conn, env, RedirectKind(kind), uri)
    click.echo(f"removed {kind} URL {uri}")


@click.group("initiate-login")
def initiate_login_group() -> None:
    """The environment's initiate-login URL (where IdP-initiated logins are sent)."""


@initiate_login_group.command("set")
@click.argument("uri")
@env_option
@json_option
@click.pass_obj
def set_initiate_login(obj: CliContext, uri: str, env_id: str | None, as_json: bool) -> None:
    """Set the initiate-login URL to URI."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        current = environments.set_initiate_login_uri(rt, conn, env, uri)
    show(view.redirect_uri(current), as_json)
