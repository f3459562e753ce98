"""`entryway keys rotate-master`, `master-status` and `new-master` as an operator runs them (the same rotation
against a serving instance is tests/operations/test_master_key_rotation.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from entryway.cli import main
from entryway.config import decode_master_key
from entryway.keys.sealing import master_key_id
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from tests.conftest import TEST_MASTER_KEY

OLD = base64.urlsafe_b64encode(TEST_MASTER_KEY).decode()


@pytest.fixture
def base_env(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")  # sealed values under OLD
    return {
        "ENTRYWAY_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "ENTRYWAY_DATA_DIR": str(rt.settings.data_dir),
    }


def run(env: dict[str, str], *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert (result.exit_code == 0) is ok, (args, result.output, result.exception)
    return result


def test_rotate_master_shows_progress_and_is_idempotent(base_env: dict[str, str]) -> None:
    new = run(base_env, "keys", "new-master").stdout.strip()
    assert len(decode_master_key(new)) == 32
    both = {**base_env, "ENTRYWAY_MASTER_KEY": new, "ENTRYWAY_PREVIOUS_MASTER_KEYS": OLD}

    first = run(both, "keys", "rotate-master")
    assert "re-wrap data keys: 1/1 (100%)" in first.stderr
    assert "re-seal signing key private keys:" in first.stderr
    assert "remove ENTRYWAY_PREVIOUS_MASTER_KEYS" in first.stderr

    again = json.loads(run(both, "keys", "rotate-master", "--json").stdout)
    assert again["values_resealed"] == 0 and again["data_keys_rewrapped"] == 0 and again["unreadable"] == 0

    status = json.loads(run({**base_env, "ENTRYWAY_MASTER_KEY": new}, "keys", "master-status", "--json").stdout)
    assert {k["master_key_id"] for k in status["data_keys"]} == {master_key_id(decode_master_key(new))}
    assert {k["this_process_can_open"] for k in status["data_keys"]} == {"yes"}
    # The fresh key has counted every value the rotation re-sealed under it (keys/seal_counts.py).
    resealed = next(int(line.split()[1]) for line in first.stdout.splitlines() if line.startswith("values_resealed"))
    assert [k["sealed_count"] for k in status["data_keys"] if k["status"] == "active"] == [resealed]


def test_rotate_master_without_the_old_key_fails_and_changes_nothing(base_env: dict[str, str]) -> None:
    new = run(base_env, "keys", "new-master").stdout.strip()
    only_new = {**base_env, "ENTRYWAY_MASTER_KEY": new}
    refused = run(only_new, "keys", "rotate-master", ok=False)
    assert "ENTRYWAY_PREVIOUS_MASTER_KEYS" in refused.output
    status = json.loads(run(only_new, "keys", "master-status", "--json").stdout)
    assert {k["master_key_id"] for k in status["data_keys"]} == {master_key_id(TEST_MASTER_KEY)}
    assert {k["this_process_can_open"] for k in status["data_keys"]} == {"NO"}
