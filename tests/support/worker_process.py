"""Run Python code in a fresh interpreter set up as a server worker's (`entryway.asgi` is what uvicorn imports),
with its own SQLite database, and return the last line it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from entryway.config import new_master_key_text


def run_in_worker_process(tmp_path: Path, code: str) -> str:
    env = {
        "ENTRYWAY_DATA_DIR": str(tmp_path),
        "ENTRYWAY_MASTER_KEY": new_master_key_text(),
        "ENTRYWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # a worktree's code, not the installed checkout's
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]
