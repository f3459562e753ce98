"""A server worker imports what it serves with, not what only the CLI, developer tools or rare actions need (each
import is resident memory in every worker): xmlsec is imported on the first encrypted assertion (9 MB),
dnspython when a domain is checked (3 MB)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.worker_process import run_in_worker_process

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
    assert json.loads(run_in_worker_process(tmp_path, probe)) == []
