"""What every CLI command shares: settings and the runtime, built lazily (`--help` needs neither)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click

from entryway.config import ConfigError, Settings, load_settings
from entryway.model.environments import EnvironmentType
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services.environments import Environment, find_environment, list_environments


@dataclass
class CliContext:
    generate_master_key: bool = False
    _runtime: Runtime | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        try:
            return load_settings(generate_master_key=self.generate_master_key)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc

    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime.build(self.settings())
        return self._runtime

    def close(self) -> None:
        """Release the database connections a command opened (the CLI may run many commands in one process), once
        the values it sealed are counted in their data keys' rows (keys/seal_counts.py: nothing to do for most)."""
        if self._runtime is not None:
            self._runtime.sealer.flush_seal_counts()
            self._runtime.engine.dispose()
            self._runtime = None

    def environment(self, env_id: str | None) -> Environment:
        """The environment a command targets: --env, else the first development environment, else the only one."""
        with self.runtime().engine.connect() as conn:
            if env_id:
                found = find_environment(conn, env_id)
                if found is None:
                    raise click.ClickException(f"there is no environment {env_id} (see `entryway env list`)")
                return found
            every = list_environments(conn)
        development = [e for e in every if e.type is EnvironmentType.DEVELOPMENT]
        if development:
            return development[0]
        if len(every) == 1:
            return every[0]
        if not every:
            raise click.ClickException("there is no environment yet: run `entryway dev` or `entryway env create`")
        raise click.ClickException("there are several environments: choose one with --env ENV_ID")


def fail_on_api_error(exc: ApiError) -> NoReturn:
    """Show an API-style error as the CLI's own: message, then each violated field."""
    lines = [exc.message] + [f"  {v.field}: {v.description}" for v in exc.violations]
    raise click.ClickException("\n".join(lines))


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
