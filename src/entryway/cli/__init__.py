"""The `entryway` command line: one group, with subcommands registered from small modules."""

from __future__ import annotations

import click

from entryway.cli.context import CliContext
from entryway.cli.server import dev, migrate, serve


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Entryway: a self-hosted enterprise SSO broker."""
    ctx.obj = CliContext()


main.add_command(dev)
main.add_command(serve)
main.add_command(migrate)
