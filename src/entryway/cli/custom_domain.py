"""`entryway custom-domain show|set|verify|remove`: serve a production environment on the customer's own name."""

from __future__ import annotations

from typing import Any

import click

from entryway.api import custom_domain_views as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option
from entryway.services import custom_domains
from entryway.services.environments import get_environment


@click.group("custom-domain")
def custom_domain_group() -> None:
    """A production environment's custom domain (CNAME, DNS verification, what the app's .env must change)."""


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json({"custom_domain": data})
        return
    click.echo(f"domain: {data['domain'] or '(none)'}  status: {data['status']}")
    record = data["cname_record"]
    if record:
        click.echo(f"DNS record: {record['name']} CNAME {record['value']}")
    click.echo(f"environment URL: {data['environment_url']}")
    for change in data["env_file_changes"]:
        click.echo(f"app .env: {change['name']}={change['value']}  (was {change['previous_value']})")
    click.echo(data["instructions"])


@custom_domain_group.command("show")
@env_option
@json_option
@click.pass_obj
def show(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """Show the custom domain, its CNAME record and what the app must change."""
    env = obj.environment(env_id)
    _print(view.custom_domain(obj.runtime().settings, env), as_json)


@custom_domain_group.command("set")
@click.argument("domain")
@env_option
@json_option
@click.pass_obj
def set_domain(obj: CliContext, domain: str, env_id: str | None, as_json: bool) -> None:
    """Set DOMAIN (e.g. sso.acme.com) and print the CNAME record to publish."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with writing(rt) as conn:
        changed = custom_domains.set_custom_domain(rt, conn, get_environment(conn, env.id), domain)
    _print(view.custom_domain(rt.settings, changed), as_json)


@custom_domain_group.command("verify")
@env_option
@json_option
@click.pass_obj
def verify(obj: CliContext, env_id: str | None, as_json: bool) -> None:
    """Look the CNAME up in DNS; exits non-zero when it does not point at the target."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    changed, check = custom_domains.verify_custom_domain(rt, env.id)
    if as_json:
        emit_json(
            {
                "custom_domain": view.custom_domain(rt.settings, changed),
                "verified": check.verified,
                "dns_check": view.dns_check(check),
            }
        )
    else:
        click.echo(check.message)
        _print(view.custom_domain(rt.settings, changed), False)
    if not check.verified:
        raise SystemExit(1)


@custom_domain_group.command("remove")
@env_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def remove(obj: CliContext, env_id: str | None, yes: bool) -> None:
    """Stop serving the custom domain (apps configured with it stop working)."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    with rt.engine.connect() as conn:
        before = get_environment(conn, env.id)
    if before.custom_domain and not yes:
        click.confirm(f"Stop serving {before.custom_domain}? Apps whose ENTRYWAY_ENV_URL uses it will fail", abort=True)
    with writing(rt) as conn:
        changed = custom_domains.remove_custom_domain(rt, conn, before)
    _print(view.custom_domain(rt.settings, changed, previous_url=before.public_url), False)
