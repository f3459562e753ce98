"""Driving the `entryway` command line against the test database (the `rt` fixture's, on both backends)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from entryway.cli import main
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.conftest import TEST_MASTER_KEY

Run = Callable[..., Result]


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")


@pytest.fixture
def cli_env(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    # The CLI is another instance (its own engine): this runtime would see its changes within the configuration
    # cache's check interval. Check on every lookup so the tests read CLI changes at once; the interval itself is
    # tested in tests/store/test_config_cache.py.
    monkeypatch.setattr(rt.config, "check_seconds", 0.0)
    return {
        "ENTRYWAY_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "ENTRYWAY_DATA_DIR": str(rt.settings.data_dir),
        "ENTRYWAY_MASTER_KEY": base64.urlsafe_b64encode(TEST_MASTER_KEY).decode(),
    }


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    def invoke(*args: str, ok: bool = True, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        result = CliRunner().invoke(main, list(args), env={**cli_env, **(env or {})}, input=input)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        else:
            assert result.exit_code != 0, (args, result.output)
        return result

    return invoke


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)
