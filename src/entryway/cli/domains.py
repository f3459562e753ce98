"""`entryway domains add|list|verify|remove`."""

from __future__ import annotations

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option, org_option
from entryway.cli.output import show, show_list
from entryway.model.connections import DomainType
from entryway.services import domains, organizations


@click.group("domains")
def domains_group() -> None:
    """An organization's domains: they route logins by email domain, proven by a DNS TXT record."""


@domains_group.command("add")
@click.argument("domain")
@org_option
@click.option(
    "--type",
    "domain_type",
    type=click.Choice([t.value for t in DomainType]),
    default=DomainType.ORGANIZATION_DOMAIN.value,
    show_default=True,
)
@env_option
@json_option
@click.pass_obj
def add(obj: CliContext, domain: str, org_id: str, domain_type: str, env_id: str | None, as_json: bool) -> None:
    """Add DOMAIN to an organization, and print the TXT record that verifies it."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        created = domains.create_domain(rt, conn, env.id, org_id, domain=domain, domain_type=domain_type)
    data = view.domain(created)
    show(data, as_json)
    if not as_json:
        record = data["verification_record"]
        click.echo("")
        click.echo(f"To verify it, publish a TXT record {record['name']} with the value {record['value']}")
        click.echo(f"then run `entryway domains verify {created.id} --org {org_id}`.")


@domains_group.command("list")
@org_option
@env_option
@json_option
@click.pass_obj
def list_domains(obj: CliContext, org_id: str, env_id: str | None, as_json: bool) -> None:
    """List an organization's domains."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        organizations.get_organization(conn, env.id, org_id)
        items = [view.domain(d) for d in domains.list_domains(conn, env.id, org_id)]
    show_list(
        items,
        as_json,
        "domains",
        ["id", "domain", "type", "status"],
        ["id", "domain", "domain_type", "verification_status"],
    )


@domains_group.command("verify")
@click.argument("domain_id")
@org_option
@env_option
@json_option
@click.pass_obj
def verify(obj: CliContext, domain_id: str, org_id: str, env_id: str | None, as_json: bool) -> None:
    """Check DOMAIN_ID's TXT record in DNS; exits non-zero when it is not there."""
    env = obj.environment(env_id)
    found, check = domains.verify_domain(obj.runtime(), env.id, org_id, domain_id)
    if as_json:
        emit_json({"domain": view.domain(found), "verified": check.verified, "dns_check": check.__dict__})
    else:
        click.echo(f"{found.domain}: {found.verification_status}")
        click.echo(check.message)
        if check.found_values:
            click.echo("found: " + "; ".join(check.found_values))
    if not check.verified:
        raise SystemExit(1)


@domains_group.command("remove")
@click.argument("domain_id")
@org_option
@env_option
@click.pass_obj
def remove(obj: CliContext, domain_id: str, org_id: str, env_id: str | None) -> None:
    """Remove DOMAIN_ID from the organization."""
    env = obj.environment(env_id)
    with writing(obj.runtime()) as conn:
        domains.delete_domain(conn, env.id, org_id, domain_id)
    click.echo(f"removed domain {domain_id}")
