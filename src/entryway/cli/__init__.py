"""The `entryway` command line: one group, with subcommands registered from small modules."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from entryway.cli.api_clients import api_clients_group
from entryway.cli.branding import branding_group
from entryway.cli.check import check
from entryway.cli.client_secrets import secrets_group
from entryway.cli.connections import connections_group
from entryway.cli.context import CliContext, fail_on_api_error
from entryway.cli.custom_domain import custom_domain_group
from entryway.cli.domains import domains_group
from entryway.cli.environments import env_group
from entryway.cli.keys import keys_group
from entryway.cli.logs import logs_group
from entryway.cli.organizations import orgs_group
from entryway.cli.owners import owners_group
from entryway.cli.portal_links import portal_links_group
from entryway.cli.redirect_uris import initiate_login_group, redirect_uris_group
from entryway.cli.server import dev, migrate, serve
from entryway.cli.webhooks import webhooks_group
from entryway.keys.sealing import SealError
from entryway.model.errors import ApiError
from entryway.store.migration_locks import MigrationLocked


class EntrywayGroup(click.Group):
    """Turns a service's ApiError into the CLI's error: its message and each violated field, exit status 1; and an
    expected database failure (unreachable, not migrated, busy) or locked stored secrets into a message that says
    what to do, never a traceback with the statement and its parameters. Anything else is a defect: raised."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            fail_on_api_error(exc)
        except MigrationLocked as exc:  # `migrate` or `dev` gave up waiting for a lock: its message says what to do
            raise click.ClickException(str(exc)) from exc
        except (SQLAlchemyError, SealError) as exc:
            message = ctx.obj.explain_failure(exc) if isinstance(ctx.obj, CliContext) else None
            if message is None:
                raise
            raise click.ClickException(message) from exc


@click.group(cls=EntrywayGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Entryway: a self-hosted enterprise SSO broker."""
    ctx.obj = CliContext()
    ctx.call_on_close(ctx.obj.close)


for command in (
    dev,
    serve,
    migrate,
    env_group,
    redirect_uris_group,
    initiate_login_group,
    secrets_group,
    api_clients_group,
    orgs_group,
    domains_group,
    connections_group,
    portal_links_group,
    keys_group,
    logs_group,
    owners_group,
    check,
    branding_group,
    custom_domain_group,
    webhooks_group,
):
    main.add_command(command)
