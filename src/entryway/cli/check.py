"""`entryway check [--env production|ENV_ID] [--app-env FILE]`: the production checklist; exit 1 on a fail."""

from __future__ import annotations

from pathlib import Path

import click

from entryway.checklist.evaluate import evaluate
from entryway.checklist.findings import AppEnv, Status
from entryway.cli.context import CliContext, emit_json
from entryway.config import read_dotenv
from entryway.model.environments import EnvironmentType
from entryway.services.environments import Environment, list_environments

MARKS = {Status.PASS: ("PASS", "green"), Status.WARN: ("WARN", "yellow"), Status.FAIL: ("FAIL", "red")}


def _environment(obj: CliContext, wanted: str | None) -> Environment:
    """--env takes an environment ID, or a type: `production` is the one production environment."""
    types = {t.value: t for t in EnvironmentType}
    if wanted not in types:
        return obj.environment(wanted)
    with obj.runtime().engine.connect() as conn:
        found = [e for e in list_environments(conn) if e.type is types[wanted]]
    if len(found) == 1:
        return found[0]
    if not found:
        raise click.ClickException(
            f"there is no {wanted} environment: create one with `entryway env create --type {wanted} --url …`"
        )
    ids = ", ".join(e.id for e in found)
    raise click.ClickException(f"there are {len(found)} {wanted} environments ({ids}): name one with --env ENV_ID")


@click.command("check")
@click.option(
    "--env",
    "wanted",
    default=None,
    metavar="production|ENV_ID",
    help="The environment to check: an ID, or `production` for the production environment.",
)
@click.option(
    "--app-env",
    "app_env_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The app's .env: its ENTRYWAY_ENV_URL, ENTRYWAY_CLIENT_ID and ENTRYWAY_CLIENT_SECRET are compared.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checklist as JSON (the API's representation).")
@click.pass_obj
def check(obj: CliContext, wanted: str | None, app_env_file: Path | None, as_json: bool) -> None:
    """Is the environment ready for production? Exit status 1 when any check fails (for CI)."""
    env = _environment(obj, wanted)
    app_env = None
    if app_env_file is not None:
        values = read_dotenv(app_env_file)
        app_env = AppEnv(
            values.get("ENTRYWAY_ENV_URL"), values.get("ENTRYWAY_CLIENT_ID"), values.get("ENTRYWAY_CLIENT_SECRET")
        )
    report = evaluate(obj.runtime(), env, app_env=app_env)
    if as_json:
        emit_json({"checklist": report.to_dict()})
    else:
        click.echo(f"Production checklist for {env.id} ({env.type.value}, {env.url})")
        click.echo("")
        for finding in report.findings:
            label, colour = MARKS[finding.status]
            click.echo(f"{click.style(label, fg=colour, bold=True)}  {finding.title}: {finding.detail}")
            if finding.fix:
                click.echo(f"      fix: {finding.fix}")
        counts = report.counts()
        click.echo("")
        click.echo(f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed")
    if report.status is Status.FAIL:
        raise SystemExit(1)
