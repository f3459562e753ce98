"""/readyz compares revisions without importing Alembic (store/schema_version.py): its answers must be
Alembic's, and a server process must not load Alembic at all (about 11 MB of resident memory)."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import Engine

from entryway.store import migrate, schema_version


def test_head_and_current_revision_agree_with_alembic(engine: Engine) -> None:
    assert schema_version.head_revision() == migrate.head_revision(engine)
    assert schema_version.current_revision(engine) == migrate.current_revision(engine)
    assert schema_version.current_revision(engine) == schema_version.head_revision()


def test_the_served_app_does_not_import_alembic() -> None:
    code = "import sys, entryway.app, entryway.asgi; print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
