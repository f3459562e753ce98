"""What every CLI command shares: settings and the runtime, built lazily (`--help` needs neither)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from entryway.config import ConfigError, Settings, load_settings
from entryway.model.errors import ApiError
from entryway.runtime import Runtime


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


def fail_on_api_error(exc: ApiError) -> None:
    """Show an API-style error as the CLI's own: message, then each violated field."""
    lines = [exc.message] + [f"  {v.field}: {v.description}" for v in exc.violations]
    raise click.ClickException("\n".join(lines))


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
