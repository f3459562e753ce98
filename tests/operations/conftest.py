"""Fixtures for tests that run Entryway as separate `entryway serve` processes on one database."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY, make_settings
from tests.support.databases import POSTGRES_ADMIN_URL, worker_name
from tests.support.instances import instance_env
from tests.support.login_steps import CALLBACK, App
from tests.support.private_services import PrivatePostgres, private_postgres

MASTER_KEY_TEXT = "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM="
ENV_URL = "http://sso.entryway.test"
_numbers = itertools.count()


@dataclass
class Deployment:
    database_url: str
    app: App
    data_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        return instance_env(self.database_url, MASTER_KEY_TEXT, self.data_dir, extra)


def fresh_postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> tuple[str, str]:
    name = f"entryway_ops_{worker_name()}_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{admin_url.rsplit('/', 1)[0]}/{name}"


def drop_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def deploy(database_url: str, data_dir: Path) -> Deployment:
    """Migrate the database and seed a development environment, as an operator would before starting instances."""
    assert TEST_MASTER_KEY  # the instances get the same key, as text
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        rt = Runtime.build(make_settings(database_url, data_dir, ENV_URL), engine=engine)
        seed = seed_development(rt, ENV_URL, CALLBACK)
    finally:
        engine.dispose()
    assert seed.plain_secret
    return Deployment(database_url, App(ENV_URL, seed.client_id, seed.plain_secret, seed.connection_id), data_dir)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    name, url = fresh_postgres_database()
    try:
        yield deploy(url, tmp_path)
    finally:
        drop_postgres_database(name)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of the test's own, which the test may stop and start (never the machine's shared one)."""
    with private_postgres() as server:
        yield server
