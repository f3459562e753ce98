"""A server worker imports what it serves with, not what only the CLI, developer tools or rare actions need (each
import is resident memory in every worker): xmlsec is imported on the first encrypted assertion (9 MB),
dnspython when a domain is checked (3 MB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from entryway.config import new_master_key_text

NOT_IN_A_WORKER = ("alembic", "rich", "pygments", "httpx._main", "entryway.cli", "xmlsec", "dns")


def test_a_worker_loads_no_cli_or_migration_code_and_httpx_still_works(tmp_path: Path) -> None:
    probe = (
        "import json, sys\n"
        "import entryway.asgi\n"
        "entryway.asgi.create()\n"
        "import httpx\n"
        "assert httpx.Client and httpx.get\n"
        f"print(json.dumps([m for m in {list(NOT_IN_A_WORKER)!r} if sys.modules.get(m) is not None]))\n"
    )
    env = {
        "ENTRYWAY_DATA_DIR": str(tmp_path),
        "ENTRYWAY_MASTER_KEY": new_master_key_text(),
        "ENTRYWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # a worktree's code, not the installed checkout's
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
