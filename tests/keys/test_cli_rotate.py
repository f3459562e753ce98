"""`entryway keys rotate` and `entryway keys list` against the test database."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from entryway.cli import main
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import data_keys
from tests.conftest import TEST_MASTER_KEY


@pytest.fixture
def cli_env(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return {
        "ENTRYWAY_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "ENTRYWAY_DATA_DIR": str(rt.settings.data_dir),
        "ENTRYWAY_MASTER_KEY": base64.urlsafe_b64encode(TEST_MASTER_KEY).decode(),
    }


def run(cli_env: dict[str, str], *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args), env=cli_env)
    assert (result.exit_code == 0) is ok, (args, result.output, result.exception)
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_rotate_then_list(cli_env: dict[str, str], seed: DevSeed) -> None:
    before = as_json(run(cli_env, "keys", "list", "--json"))["keys"]
    assert [k["status"] for k in before] == ["active"]
    rotated = as_json(run(cli_env, "keys", "rotate", "--grace", "600", "--json"))
    assert rotated["replaces"] == before[0]["kid"]
    after = {k["kid"]: k for k in as_json(run(cli_env, "keys", "list", "--json"))["keys"]}
    assert after[rotated["kid"]]["status"] == "next"
    assert after[rotated["kid"]]["activate_time"] == rotated["signs_from"]
    assert after[before[0]["kid"]]["retire_time"] == rotated["signs_from"]
    assert "already pending" in run(cli_env, "keys", "rotate", ok=False).output
    assert "grace" in run(cli_env, "keys", "rotate", "--grace", "10", ok=False).output


def test_a_command_s_seals_are_counted_when_it_ends(cli_env: dict[str, str], seed: DevSeed, rt: Runtime) -> None:
    """A command's process has no server shutdown: the new signing key it sealed is counted as the command ends."""
    with rt.engine.connect() as conn:
        before = dict(conn.execute(select(data_keys.c.id, data_keys.c.sealed_count)).all())
    run(cli_env, "keys", "rotate", "--grace", "600")
    with rt.engine.connect() as conn:
        after = dict(conn.execute(select(data_keys.c.id, data_keys.c.sealed_count)).all())
    assert after == {key: count + 1 for key, count in before.items()}  # one active key, one more value
