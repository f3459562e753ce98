"""Options shared by the management commands."""

from __future__ import annotations

import click

env_option = click.option(
    "--env",
    "env_id",
    default=None,
    metavar="ENV_ID",
    help="The environment to act on (default: the first development environment).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's representation).")
org_option = click.option("--org", "org_id", required=True, metavar="ORG_ID", help="The organization.")
