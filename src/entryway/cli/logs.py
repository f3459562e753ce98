"""`entryway logs purge`: delete auth log events older than the retention period (cron it, or rely on the
server's hourly purge)."""

from __future__ import annotations

import click

from entryway.cli.context import CliContext
from entryway.services import auth_log
from entryway.services.environments import list_environments


@click.group("logs")
def logs_group() -> None:
    """The auth log."""


@logs_group.command("purge")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Keep this many days (default: ENTRYWAY_AUTH_LOG_RETENTION_DAYS, 90).",
)
@click.pass_obj
def purge(obj: CliContext, days: int | None) -> None:
    """Delete auth log events older than the retention period, environment by environment."""
    rt = obj.runtime()
    keep = days if days is not None else rt.settings.auth_log_retention_days
    with rt.engine.connect() as conn:
        every = list_environments(conn)
    total = 0
    for index, env in enumerate(every, start=1):
        removed = auth_log.purge(rt, env.id, retention_days=keep)
        total += removed
        click.echo(f"[{index}/{len(every)}] {env.id}: {removed} event(s) older than {keep} days deleted")
    click.echo(f"{total} event(s) deleted")
