"""A PostgreSQL server and a Redis server of the test's own, on loopback ports in a temporary directory.

Fault tests stop and restart these; the machine's shared PostgreSQL and Redis, which other test runs use,
are never touched. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
PostgreSQL may also run on a host of the test's own (tests/support/network_namespace.py), which the test can
cut off from the network.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from tests.support.network_namespace import IsolatedHost
from tests.support.server import free_port


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql; `make fault-deps`)")
    return Path(found[-1]).parent


class PrivatePostgres:
    def __init__(self, directory: Path, host: IsolatedHost | None = None) -> None:
        self.bin = _postgres_bin()
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.host = host
        self.address = host.address if host is not None else "127.0.0.1"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        if self.host is not None:
            command = [*self.host.run_inside, *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if self._as_root:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        if self.host is not None:  # initdb trusts loopback only; the clients come from the link's other end
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.host.peer}/32 trust\n")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses={self.address} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.address}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def private_postgres(host: IsolatedHost | None = None) -> Iterator[PrivatePostgres]:
    """A running PostgreSQL, on loopback or on `host`; stopped and removed when the block ends."""
    directory = Path(tempfile.mkdtemp(prefix="entryway-pg-"))
    server = PrivatePostgres(directory, host)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found (Debian package redis-server; `make fault-deps`)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    directory = Path(tempfile.mkdtemp(prefix="entryway-redis-"))
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
