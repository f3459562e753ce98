"""`entryway orgs create|list|get|update|delete`."""

from __future__ import annotations

from typing import Any

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.services import organizations


def _metadata(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--metadata")
        out[key] = value
    return out


@click.group("orgs")
def orgs_group() -> None:
    """Organizations: the customer companies that log in through their own IdP."""


@orgs_group.command("create")
@click.argument("display_name")
@click.option("--external-id", default=None, help="Your own ID for the organization (unique).")
@click.option("--slug", default=None, help="A short unique name (lower-case letters, digits, hyphens).")
@click.option("--logo-url", default=None, help="An https URL of the organization's logo.")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Metadata (repeatable).")
@env_option
@json_option
@click.pass_obj
def create(
    obj: CliContext,
    display_name: str,
    external_id: str | None,
    slug: str | None,
    logo_url: str | None,
    metadata: tuple[str, ...],
    env_id: str | None,
    as_json: bool,
) -> None:
    """Create an organization named DISPLAY_NAME."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        org = organizations.create_organization(
            rt,
            conn,
            env.id,
            display_name=display_name,
            external_id=external_id,
            slug=slug,
            logo_url=logo_url,
            metadata=_metadata(metadata) or None,
        )
    show(view.organization(org), as_json)


@orgs_group.command("list")
@env_option
@json_option
@click.pass_obj
def list_orgs(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """List the organizations."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        items = [view.organization(o) for o in organizations.list_organizations(conn, env.id)]
    show_list(
        items,
        as_json,
        "organizations",
        ["id", "name", "external id", "slug"],
        ["id", "display_name", "external_id", "slug"],
    )


@orgs_group.command("get")
@click.argument("org_id")
@env_option
@json_option
@click.pass_obj
def get(obj: CliContext, org_id: str, env_id: str | None, as_json: bool) -> None:
    """Show ORG_ID (an org_… ID, or ext:EXTERNAL_ID)."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        if org_id.startswith("ext:"):
            org = organizations.get_by_external_id(conn, env.id, org_id[4:])
        else:
            org = organizations.get_organization(conn, env.id, org_id)
    show(view.organization(org), as_json)


@orgs_group.command("update")
@click.argument("org_id")
@click.option("--name", "display_name", default=None, help="A new display name.")
@click.option("--external-id", default=None, help="A new external ID ('' clears it).")
@click.option("--slug", default=None, help="A new slug ('' clears it).")
@click.option("--logo-url", default=None, help="A new logo URL ('' clears it).")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Replace the metadata (repeatable).")
@env_option
@json_option
@click.pass_obj
def update(
    obj: CliContext,
    org_id: str,
    display_name: str | None,
    external_id: str | None,
    slug: str | None,
    logo_url: str | None,
    metadata: tuple[str, ...],
    env_id: str | None,
    as_json: bool,
) -> None:
    """Change ORG_ID's fields (only those given)."""
    changes: dict[str, Any] = {}
    if display_name is not None:
        changes["display_name"] = display_name
    for name, value in (("external_id", external_id), ("slug", slug), ("logo_url", logo_url)):
        if value is not None:
            changes[name] = value or None
    if metadata:
        changes["metadata"] = _metadata(metadata)
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        org = organizations.update_organization(rt, conn, env.id, org_id, changes)
    show(view.organization(org), as_json)


@orgs_group.command("delete")
@click.argument("org_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@env_option
@click.pass_obj
def delete(obj: CliContext, org_id: str, yes: bool, env_id: str | None) -> None:
    """Delete ORG_ID with its domains and connections."""
    env = obj.environment(env_id)
    if not yes:
        click.confirm(f"Delete {org_id} with its domains and connections?", abort=True)
    with writing(obj.runtime()) as conn:
        organizations.delete_organization(conn, env.id, org_id)
    click.echo(f"deleted organization {org_id}")
