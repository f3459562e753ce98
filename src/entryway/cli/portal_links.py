"""`entryway portal-links create|list|revoke`: admin portal links for an organization's IT admin."""

from __future__ import annotations

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option, org_option
from entryway.cli.output import show, show_list
from entryway.services import portal_links
from entryway.services.portal_links import LinkType


@click.group("portal-links")
def portal_links_group() -> None:
    """Links that open the admin portal, where a customer's IT admin sets up SSO for their organization."""


@portal_links_group.command("create")
@org_option
@click.option(
    "--type",
    "link_type",
    type=click.Choice([t.value for t in LinkType], case_sensitive=False),
    default=LinkType.SHAREABLE.value,
    show_default=True,
    help="SHAREABLE: send it to the IT admin (7 days, reusable). EMBEDDABLE: frame it in your app (1 use, 1 minute).",
)
@env_option
@json_option
@click.pass_obj
def create(obj: CliContext, org_id: str, link_type: str, env_id: str | None, as_json: bool) -> None:
    """Create a portal link; its location is shown this once."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        link, location = portal_links.create_link(rt, conn, env, org_id, LinkType(link_type.upper()), "cli")
    show(view.portal_link(link, location), as_json)
    if not as_json:
        click.echo("")
        click.echo(
            f"Send this link to the organization's IT admin (it works until {link.expire_time:%Y-%m-%d %H:%M} UTC):"
        )
        click.echo(location)


@portal_links_group.command("list")
@org_option
@env_option
@json_option
@click.pass_obj
def list_links(obj: CliContext, org_id: str, env_id: str | None, as_json: bool) -> None:
    """List the organization's links that can still open the portal (their locations are not kept)."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with rt.engine.connect() as conn:
        items = [view.portal_link(link, None) for link in portal_links.list_links(rt, conn, env.id, org_id)]
    show_list(items, as_json, "links", ["id", "type", "expires"], ["id", "link_type", "expire_time"])


@portal_links_group.command("revoke")
@click.argument("link_id")
@org_option
@env_option
@click.pass_obj
def revoke(obj: CliContext, link_id: str, org_id: str, env_id: str | None) -> None:
    """Revoke LINK_ID and end every portal session it opened."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        portal_links.revoke_link(rt, conn, env.id, org_id, link_id)
    click.echo(f"revoked portal link {link_id}; the sessions it opened have ended")
