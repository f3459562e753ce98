"""What every CLI command shares: settings and the runtime, built lazily (`--help` needs neither)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click
from sqlalchemy.exc import ArgumentError

from entryway.cli import locked_secrets
from entryway.cli.database_errors import CommandDatabase
from entryway.config import ConfigError, Settings, load_settings
from entryway.keys.sealing import SealError
from entryway.model.environments import EnvironmentType
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services.environments import Environment, find_environment, list_environments


@dataclass
class CliContext:
    generate_master_key: bool = False
    _runtime: Runtime | None = field(default=None, repr=False)
    _database: CommandDatabase | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        try:
            return load_settings(generate_master_key=self.generate_master_key)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc

    def runtime(self) -> Runtime:
        if self._runtime is None:
            settings = self.settings()
            try:
                self._database = CommandDatabase(settings.database_url)
            except (ArgumentError, ValueError, ImportError) as exc:  # the URL cannot name a database, or its driver
                # A ValueError's text may quote any part of the URL (the port, as parsed): not shown.
                why = "a part of it does not parse" if isinstance(exc, ValueError) else str(exc)
                raise click.ClickException(
                    f"ENTRYWAY_DATABASE_URL is not a database URL Entryway can use ({why}); set it to "
                    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///PATH"
                ) from exc
            except OSError as exc:  # make_engine could not make the SQLite file's directory
                raise click.ClickException(
                    f"cannot create the directory of the SQLite database {settings.database_url}: {exc.strerror} "
                    f"({exc.filename}); nothing was changed. Set ENTRYWAY_DATABASE_URL (or ENTRYWAY_DATA_DIR) to a "
                    "place this user may write."
                ) from exc
            self._runtime = Runtime.build(settings, engine=self._database.engine)
        return self._runtime

    def explain_failure(self, exc: BaseException) -> str | None:
        """The message for a database failure or locked secrets (cli/database_errors.py, cli/locked_secrets.py), or
        None for anything else: a defect, raised as it is."""
        if self._database is None:
            return None
        if isinstance(exc, SealError):
            if self._runtime is None:
                return None
            return locked_secrets.explain(exc, self._runtime.sealer, self._database.outcome)
        return self._database.explain(exc)

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
