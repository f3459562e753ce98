"""A command whose database fails in an expected way (cannot be reached, is not migrated, is busy, or its stored
secrets are locked) ends with `Error: ...` and exit status 1: what happened, what to do, and whether anything
was changed; never a traceback, the SQL statement, its parameters or the URL's password (cli/database_errors.py,
cli/locked_secrets.py). A defect still raises. Every failure here is real: a refused port, a file SQLite cannot
open, empty and half-migrated databases, a lock another connection holds, a wrong master key."""

from __future__ import annotations

import base64
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway.cli import locked_secrets, main
from entryway.cli.database_errors import CommandDatabase
from entryway.config import new_master_key_text
from entryway.keys.sealing import SealError
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import DevSeed
from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from entryway.store.schema_version import head_revision
from entryway.store.tables import metadata
from tests.cli.conftest import Run
from tests.conftest import TEST_MASTER_KEY
from tests.support.database_waits import wait_for, waiting_on_lock
from tests.support.databases import POSTGRES_ADMIN_URL, scratch_postgres_database

PASSWORD = "s3cretPW"
KEY = base64.urlsafe_b64encode(TEST_MASTER_KEY).decode()
# What SQLAlchemy's own text of a failed statement shows: the statement (its columns qualified by their table),
# and its parameters.
STATEMENT_TEXT = ("[SQL", "[parameters", "environments.id", "INSERT INTO", "FROM environments", "FROM data_keys")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _invoke(url: str, tmp_path: Path, *args: str, key: str = KEY) -> Result:
    env = {"ENTRYWAY_DATABASE_URL": url, "ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": key}
    return CliRunner().invoke(main, list(args), env=env)


def _told(result: Result, *words: str) -> str:
    """The command ended with the CLI's own error (a ClickException: exit status 1), saying `words`, and showing
    none of a statement, its parameters or the password."""
    assert result.exit_code == 1, (result.output, result.exception)
    # An error that escaped the CLI would be result.exception itself (and a traceback on a terminal).
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("Error: "), result.output
    for word in words:
        assert word in result.output, (word, result.output)
    for leaked in (*STATEMENT_TEXT, "Traceback", PASSWORD):
        assert leaked not in result.output, (leaked, result.output)
    return result.output


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def _plain(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(rt: Runtime, **query: str) -> str:
    return (
        make_url(_plain(rt.engine.url.render_as_string(hide_password=False)))
        .update_query_dict(query)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def quiet_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


@pytest.fixture
def empty_postgres(quiet_dir: Path) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (never migrated), dropped afterwards."""
    with scratch_postgres_database("cli_db_errors") as url:
        yield url


# --- cannot reach the database -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("env", "list"), ("env", "create", "--type", "production", "--url", "https://sso.example.com"), ("migrate",)],
)
def test_a_refused_connection_names_the_database_without_its_password(args: tuple[str, ...], quiet_dir: Path) -> None:
    port = _free_port()
    result = _invoke(f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/x", quiet_dir, *args)
    _told(
        result,
        f"cannot reach the database postgresql://u:***@127.0.0.1:{port}/x (ENTRYWAY_DATABASE_URL); nothing was changed",
        f'connection to server at "127.0.0.1", port {port} failed: Connection refused',
        "Check that the server is running",
    )
    assert "Is the server running on that host" not in result.output  # psycopg's second line: the first only


def test_a_password_given_as_a_query_parameter_is_masked_too(quiet_dir: Path) -> None:
    port = _free_port()
    result = _invoke(f"postgresql://u@127.0.0.1:{port}/x?password={PASSWORD}", quiet_dir, "env", "list")
    _told(result, f"cannot reach the database postgresql://u@127.0.0.1:{port}/x?password=***", "Connection refused")


def test_dev_on_an_unreachable_database_says_so(quiet_dir: Path) -> None:
    port = _free_port()
    result = _invoke(f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/x", quiet_dir, "dev", "--no-serve")
    _told(result, f"cannot reach the database postgresql://u:***@127.0.0.1:{port}/x", "Connection refused")


def test_the_installed_command_prints_no_traceback(quiet_dir: Path) -> None:
    """As an operator sees it: the real process's stderr, exit status 1."""
    port = _free_port()
    env = {
        **os.environ,
        "ENTRYWAY_DATABASE_URL": f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/x",
        "ENTRYWAY_DATA_DIR": str(quiet_dir),
        "ENTRYWAY_MASTER_KEY": KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "entryway.cli", "env", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: cannot reach the database postgresql://u:***@127.0.0.1"), done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr and not done.stdout


def test_a_sqlite_file_that_cannot_be_opened(quiet_dir: Path) -> None:
    # /proc exists and takes no new files, even for root.
    result = _invoke("sqlite:////proc/entryway-test.db", quiet_dir, "env", "list")
    _told(
        result,
        "cannot reach the database sqlite:////proc/entryway-test.db",
        "unable to open database file",
        "may read and write both the file and its directory",
    )


def test_a_sqlite_directory_that_cannot_be_made(quiet_dir: Path) -> None:
    result = _invoke("sqlite:////proc/entryway-test/x.db", quiet_dir, "env", "list")
    _told(result, "cannot create the directory of the SQLite database", "(/proc/entryway-test)", "nothing was changed")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/x", "(a part of it does not parse)"),
        (f"nosuchdialect://u:{PASSWORD}@127.0.0.1/x", "(Can't load plugin: sqlalchemy.dialects:nosuchdialect)"),
        (f"oracle+cx_oracle://u:{PASSWORD}@127.0.0.1/x", "(No module named 'cx_Oracle')"),  # a driver not installed
    ],
)
def test_a_url_that_names_no_database_entryway_can_use(url: str, why: str, quiet_dir: Path) -> None:
    result = _invoke(url, quiet_dir, "env", "list")
    _told(result, f"ENTRYWAY_DATABASE_URL is not a database URL Entryway can use {why}", "postgresql://USER:PASSWORD@")


def test_an_unknown_connection_option_is_told_as_the_driver_says(quiet_dir: Path) -> None:
    # psycopg refuses it while connecting with a ProgrammingError, not an OperationalError.
    host = POSTGRES_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    result = _invoke(f"postgresql://u:{PASSWORD}@{host}/x?nosuchoption=1", quiet_dir, "env", "list")
    _told(result, "cannot reach the database postgresql://u:***@", 'invalid connection option "nosuchoption"')


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_lost_during_the_command(rt: Runtime, quiet_dir: Path) -> None:
    """The command waits on a lock; PostgreSQL ends its session meanwhile (as a restart or an operator would)."""
    before = _rows(rt.engine)
    url = _pg_url(rt, options="-c lock_timeout=30s")
    plain = _plain(rt.engine.url.render_as_string(hide_password=False))

    def end_the_waiting_session() -> None:
        wait_for(lambda: waiting_on_lock(plain), "the command waits on the lock")
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )

    with psycopg.connect(plain) as blocker:
        blocker.execute("LOCK TABLE environments IN EXCLUSIVE MODE")  # reads go on, writes wait
        cutter = threading.Thread(target=end_the_waiting_session)
        cutter.start()
        result = _invoke(url, quiet_dir, "env", "create", "--type", "production", "--url", "https://sso.example.com")
        cutter.join()
    _told(result, "lost the connection to the database postgresql://", "during the command; nothing was changed")
    assert _rows(rt.engine) == before


# --- not migrated ---------------------------------------------------------------------------------------------


def test_an_empty_sqlite_database_is_not_migrated(quiet_dir: Path) -> None:
    path = quiet_dir / "empty.db"
    sqlite3.connect(path).close()
    result = _invoke(f"sqlite:///{path}", quiet_dir, "env", "list")
    _told(
        result,
        "is not migrated to this release's schema: it has not been migrated at all (no such table: environments)",
        f"this release needs revision {head_revision()}; nothing was changed",
        "Run `entryway migrate`",
    )


def test_an_empty_postgresql_database_is_not_migrated(empty_postgres: str, quiet_dir: Path) -> None:
    result = _invoke(empty_postgres, quiet_dir, "env", "list")
    _told(
        result,
        "is not migrated to this release's schema: it has not been migrated at all",
        'relation "environments" does not exist',
        f"this release needs revision {head_revision()}",
        "Run `entryway migrate`",
    )
    # ... and migrate is what it says to run: then the command works.
    assert _invoke(empty_postgres, quiet_dir, "migrate").exit_code == 0
    assert _invoke(empty_postgres, quiet_dir, "env", "list").exit_code == 0


def test_a_database_behind_this_release_names_both_revisions(empty_postgres: str, quiet_dir: Path) -> None:
    engine = make_engine(empty_postgres)
    try:
        upgrade(engine, "0017_schema_history")  # before data_keys.sealed_count
    finally:
        engine.dispose()
    result = _invoke(empty_postgres, quiet_dir, "keys", "master-status")
    _told(
        result,
        f"it is at revision 0017_schema_history, this release needs {head_revision()}",
        "column data_keys.sealed_count does not exist",
        "Run `entryway migrate`",
    )


def test_a_database_a_newer_release_migrated_is_ahead(quiet_dir: Path) -> None:
    path = quiet_dir / "newer.db"
    with sqlite3.connect(path) as conn:  # a newer release's schema: its revision, and no environments table
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0901_newer')")
    result = _invoke(f"sqlite:///{path}", quiet_dir, "env", "list")
    output = _told(
        result,
        "was migrated by a newer release of Entryway: it is at revision 0901_newer",
        f"its newest is {head_revision()}",
        "Run the newer release's `entryway`",
    )
    assert "Run `entryway migrate`" not in output


def test_a_missing_table_at_this_releases_revision_is_a_defect(quiet_dir: Path) -> None:
    """The schema should have it: not the operator's to fix by migrating, so it is raised as it is."""
    url = f"sqlite:///{quiet_dir / 'head.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE environments"))
    finally:
        engine.dispose()
    result = _invoke(url, quiet_dir, "env", "list")
    assert isinstance(result.exception, OperationalError), (result.output, result.exception)


# --- busy -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_lock_held_elsewhere_makes_the_database_busy(rt: Runtime, quiet_dir: Path) -> None:
    before = _rows(rt.engine)
    plain = _plain(rt.engine.url.render_as_string(hide_password=False))
    with psycopg.connect(plain) as blocker:
        blocker.execute("LOCK TABLE environments IN EXCLUSIVE MODE")
        started = time.monotonic()
        result = _invoke(
            _pg_url(rt, options="-c lock_timeout=500ms"),
            quiet_dir,
            "env",
            "create",
            "--type",
            "production",
            "--url",
            "https://sso.example.com",
        )
        took = time.monotonic() - started
    _told(
        result,
        "is busy: another transaction holds what this command needs (canceling statement due to lock timeout)",
        "nothing was changed",
        "pg_stat_activity",
    )
    assert took < 4.5, took  # the URL's 500 ms, not Entryway's 5 s default
    assert _rows(rt.engine) == before


def _sqlite_locked_elsewhere(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # the write lock
    return holder


def _write_without_waiting(database: CommandDatabase) -> OperationalError:
    with pytest.raises(OperationalError) as raised, database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout=0")  # at once, rather than after Entryway's 30 s
        conn.execute(text("INSERT INTO t VALUES (1)"))
    return raised.value


def test_sqlite_locked_by_another_writer_is_busy(tmp_path: Path) -> None:
    holder = _sqlite_locked_elsewhere(tmp_path / "locked.db")
    database = CommandDatabase(f"sqlite:///{tmp_path / 'locked.db'}")
    try:
        message = database.explain(_write_without_waiting(database))
    finally:
        holder.close()
        database.engine.dispose()
    assert message is not None
    assert "is busy: another transaction holds what this command needs (database is locked)" in message
    assert "nothing was changed" in message and "Another process is writing to the file" in message


def test_a_pool_with_no_free_connection_is_busy(tmp_path: Path) -> None:
    database = CommandDatabase(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        with database.engine.connect(), pytest.raises(PoolTimeout) as raised:
            database.engine.connect()
        message = database.explain(raised.value)
    finally:
        database.engine.dispose()
    assert message is not None and "is busy: no database connection came free in time; nothing was changed" in message


def test_only_the_commands_own_earlier_commits_count_as_changes(tmp_path: Path) -> None:
    """'nothing was changed' is said only when it is true: a command of several steps may have saved some."""
    holder = _sqlite_locked_elsewhere(tmp_path / "steps.db")
    holder.execute("COMMIT")
    database = CommandDatabase(f"sqlite:///{tmp_path / 'steps.db'}")
    try:

        def background_write() -> None:  # as the seal counts are written: not a step of the command
            with database.engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (0)"))

        writer = threading.Thread(target=background_write)
        writer.start()
        writer.join()
        assert database.outcome == "nothing was changed"
        with database.engine.begin() as conn:  # the command's first step
            conn.execute(text("INSERT INTO t VALUES (1)"))
        holder.execute("BEGIN IMMEDIATE")
        message = database.explain(_write_without_waiting(database))
    finally:
        holder.close()
        database.engine.dispose()
    assert message is not None and "nothing was changed" not in message
    assert "earlier steps of this command were saved: run it again" in message


# --- stored secrets locked ------------------------------------------------------------------------------------


def test_a_command_without_the_master_key_of_the_stored_secrets(run: Run, seed: DevSeed, rt: Runtime) -> None:
    before = _rows(rt.engine)
    other = new_master_key_text()
    result = run(
        "env", "create", "--type", "production", "--url", "https://sso.example.com", ok=False,
        env={"ENTRYWAY_MASTER_KEY": other},
    )  # fmt: skip
    output = _told(
        result,
        "stored secrets are locked: data key dk_",
        "which this process does not have",
        "nothing was changed",
        "ENTRYWAY_MASTER_KEY",
        "`entryway keys master-status`",
    )
    assert other not in output and KEY not in output
    assert _rows(rt.engine) == before


def test_a_damaged_secret_under_a_key_this_process_has(rt: Runtime) -> None:
    sealed = bytearray(rt.sealer.seal(b"value", "test:1"))
    sealed[-1] ^= 1
    with pytest.raises(SealError) as raised:
        rt.sealer.open(bytes(sealed), "test:1")
    message = locked_secrets.explain(raised.value, rt.sealer, "nothing was changed")
    assert message.startswith("a stored secret could not be opened: sealed value could not be opened")
    assert "open every data key, so the value itself is damaged" in message


# --- defects are not hidden -----------------------------------------------------------------------------------


def test_an_unexpected_error_is_raised_as_it_is(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_conn: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(environments, "list_environments", broken)
    result = run("env", "list", ok=False)
    assert isinstance(result.exception, RuntimeError)


def test_a_broken_statement_is_raised_as_it_is(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement the database rejects (SQLite says OperationalError for a syntax error too) is a defect."""

    def broken(conn: object) -> None:
        conn.execute(text("SELEC 1"))  # type: ignore[attr-defined]

    monkeypatch.setattr(environments, "list_environments", broken)
    result = run("env", "list", ok=False)
    assert isinstance(result.exception, DBAPIError), (result.output, result.exception)
