"""Shared fixtures. `rt` (and everything built on it) runs each test on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from entryway.clock import Clock
from entryway.config import Settings
from entryway.runtime import Runtime
from entryway.services import owners
from entryway.store import after_commit
from tests.support import log_scan
from tests.support.databases import (
    BACKENDS,
    drop_postgres_database,
    empty_all_tables,
    migrated_engine,
    postgres_database_name,
    postgres_url_for_worker,
    sqlite_url_for_worker,
)

_LEAK_DIR = pytest.StashKey[str]()

TEST_MASTER_KEY = base64.urlsafe_b64decode("dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM=")


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    made: dict[str, Engine] = {}
    yield made
    for engine in made.values():
        engine.dispose()
    if "postgresql" in made:
        drop_postgres_database(postgres_database_name())


def _engine_for(backend: str, engines: dict[str, Engine], tmp: Path) -> Engine:
    if backend not in engines:
        url = sqlite_url_for_worker(tmp) if backend == "sqlite" else postgres_url_for_worker()
        engines[backend] = migrated_engine(url)
    return engines[backend]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, engines: dict[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = _engine_for(backend, engines, tmp_path_factory.getbasetemp())
    empty_all_tables(engine)
    return engine


def make_settings(database_url: str, data_dir: Path, public_url: str = "http://localhost:8000") -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        public_url=public_url,
        master_key=TEST_MASTER_KEY,
        redis_url=os.environ.get("ENTRYWAY_TEST_REDIS_URL"),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rt(engine: Engine, tmp_path: Path, clock: Clock) -> Runtime:
    settings = make_settings(str(engine.url), tmp_path)
    return Runtime.build(settings, clock=clock, engine=engine)


_scanner = log_scan.SCANNER

# Random tokens Entryway makes that are public by design, so a log line may name them: a domain's verification
# token is published in DNS.
_PUBLIC_TOKENS = frozenset({"entryway.services.domains"})
_token_urlsafe = secrets.token_urlsafe
_hasher = owners.hasher


def _registered_token_urlsafe(nbytes: int | None = None) -> str:
    """secrets.token_urlsafe, as Entryway calls it for every code, link, session and secret it makes: each value
    an Entryway module makes is registered with the log scan, which then fails the run if a log line holds it."""
    value = _token_urlsafe(nbytes)
    caller = str(sys._getframe(1).f_globals.get("__name__", ""))
    if caller.startswith("entryway.") and caller not in _PUBLIC_TOKENS and len(value) >= log_scan.MIN_VALUE_LENGTH:
        _scanner.forbid(value, f"a credential made by {caller}")
    return value


def _forbid_password(password: str | bytes) -> None:
    text = password.decode(errors="replace") if isinstance(password, bytes) else password
    if len(text) >= log_scan.MIN_VALUE_LENGTH:  # shorter ones would match too much by chance
        _scanner.forbid(text, "a password")


class _RegisteringHasher(PasswordHasher):
    """The owners' password hasher: every password Entryway hashes or checks is registered with the log scan."""

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        _forbid_password(password)
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        _forbid_password(password)
        return super().verify(hash, password)


def _forbid_the_test_master_key() -> None:
    raw = TEST_MASTER_KEY
    _scanner.forbid(raw.decode("ascii"), "the master key")  # this test key happens to be printable
    for text in (base64.urlsafe_b64encode(raw).decode(), base64.b64encode(raw).decode()):
        _scanner.forbid(text, "the master key")
        _scanner.forbid(text.rstrip("="), "the master key")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.stash[_LEAK_DIR] = tempfile.mkdtemp(prefix="entryway-log-scan-")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: tell each worker where to leave its findings for the controller."""
    node.workerinput["entryway_log_scan_dir"] = node.config.stash[_LEAK_DIR]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every log record of the run, at every level, goes through the leak scanner."""
    root = logging.getLogger()
    root.addHandler(_scanner)
    root.setLevel(logging.DEBUG)
    secrets.token_urlsafe = _registered_token_urlsafe
    owners.hasher = _RegisteringHasher
    _forbid_the_test_master_key()
    # A write whose after-commit effects (a login step's count) would run before its commit fails its test here;
    # a server would run them at once and warn (store/after_commit.py).
    after_commit.strict = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A scan that stopped seeing a server logger (its handler removed, a logger no longer propagating) would pass
    # on nothing: that is a failure of the run too.
    for name in _scanner.unreachable_loggers():
        _scanner.findings.append(f"{name}: its records no longer reached the log scan (handler or propagation)")
    logging.getLogger().removeHandler(_scanner)
    secrets.token_urlsafe = _token_urlsafe
    owners.hasher = _hasher
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        out = Path(workerinput["entryway_log_scan_dir"]) / f"{workerinput['workerid']}.json"
        out.write_text(json.dumps({"records": _scanner.records, "findings": _scanner.findings}))
        return
    records, findings = _scanner.records, list(_scanner.findings)
    for part in Path(session.config.stash[_LEAK_DIR]).glob("*.json"):
        data = json.loads(part.read_text())
        records += data["records"]
        findings += data["findings"]
    if findings:
        print(
            "\nLOG LEAK SCAN: material that must never be logged was logged:\n  " + "\n  ".join(sorted(set(findings)))
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nlog leak scan: {records} log records, no secrets, tokens, codes or SAML content")
