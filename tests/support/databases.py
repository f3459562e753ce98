"""The two storage backends every storage-touching test runs on: SQLite (a file) and PostgreSQL.

Each pytest-xdist worker of each run gets its own PostgreSQL database, created fresh from the `test` database, so
workers never see each other's rows. Tables are emptied between tests (cheaper than re-migrating).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from entryway.store.tables import metadata

POSTGRES_ADMIN_URL = os.environ.get("ENTRYWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgres_database_name() -> str:
    # The pid keeps two concurrent runs on one machine (a developer's and CI's) from wiping each other's rows.
    return f"entryway_test_{worker_name()}_{os.getpid()}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_scratch_numbers = itertools.count()


@contextmanager
def scratch_postgres_database(label: str) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database of its own for the block (named for the test, the worker and
    the process, so concurrent runs never share one), dropped afterwards."""
    name = f"entryway_test_{label}_{worker_name()}_{os.getpid()}_{next(_scratch_numbers)}"
    drop_postgres_database(name)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        drop_postgres_database(name)


def postgres_url_for_worker() -> str:
    name = postgres_database_name()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def sqlite_url_for_worker(directory: Path) -> str:
    return f"sqlite:///{directory / f'entryway-{worker_name()}-{os.getpid()}.db'}"


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
