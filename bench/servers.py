"""The servers under test: Entryway (uvicorn, N workers) on SQLite or PostgreSQL, and SAML Jackson (the Node
harness in bench/jackson) on its in-memory, SQLite or PostgreSQL engine. Each is seeded, started in a
subprocess on a loopback port, timed to its first healthy answer, and measured (CPU, resident memory)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from flows import Target
from sqlalchemy import Connection, Table, select

from entryway.config import load_settings, new_master_key_text
from entryway.ids import new_id
from entryway.model.connections import DomainType
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development, simulator_urls
from entryway.services.connections import sp_urls
from entryway.store.migrate import upgrade
from entryway.store.server_timeouts import unbounded_statements
from entryway.store.tables import connections, domains, organizations

JACKSON_DIR = Path(__file__).parent / "jackson"
SEED_CHUNK = 10_000
CALLBACK_URL = "http://127.0.0.1:9/callback"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are children of its supervisor)."""
    found = [pid]
    for child in _children(pid):
        found.extend(process_tree(child))
    return found


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return kids


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) clock ticks of the whole machine so far, from /proc/stat's first line.

    Steal is time the hypervisor ran another guest while this machine's vCPU wanted to run: on this shared machine it
    has swung between 0 and 17% from one second to the next (`vmstat 1`), and every figure measured meanwhile
    (flows/s, CPU per login, p99) moves with it. The tables print it per pass so that a disturbed row can be told
    from a slower product."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest and guest_nice are already counted in user and nice)
    return fields[7], sum(fields[:8])


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Percent of the machine's time stolen between two cpu_ticks() readings."""
    total = after[1] - before[1]
    return 100 * (after[0] - before[0]) / total if total else 0.0


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_cpu_seconds(database_url: str) -> float:
    """CPU used so far by the PostgreSQL backends connected to this database (the server's pool; our own query's
    backend excluded). A backend that exits during a run takes its CPU with it, so this can only undercount."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = [
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
            )
        ]
    return cpu_seconds(pids)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def postgres_database(admin_url: str, label: str) -> Iterator[str]:
    name = f"bench_{label}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows stored exactly as SQLAlchemy would store them (each column's bind processing: JSON text, naive UTC
    times), but sent by the driver's bulk path: COPY on PostgreSQL, the C executemany loop on SQLite.

    SQLAlchemy's own executemany spent its time compiling and converting parameters in Python (about 150-200
    organizations/s on a loaded machine, over 10 minutes for 100,000); COPY and sqlite3's executemany do not.
    """
    dialect = conn.dialect
    names = [c.name for c in table.c]
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]

    def stored(row: dict[str, Any]) -> tuple[Any, ...]:
        # None goes through the processor too: a JSON column stores None as SQLAlchemy does (JSON null).
        return tuple(
            process(row.get(name)) if process is not None else row.get(name)
            for name, process in zip(names, processors, strict=True)
        )

    values = [stored(row) for row in rows]
    raw = conn.connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for value in values:
                copy.write_row(value)
    else:
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * len(names))})', values)
        finally:
            cursor.close()


def seed_organizations(rt: Runtime, env_id: str, env_url: str, template: dict[str, Any], count: int) -> None:
    """`count` organizations, each with a verified domain org<N>.bench.test and an enabled IdP-simulator SAML
    connection whose configuration is the development seed's (`template`: the rows the product's services
    stored) with its own SP and simulator URLs.

    SEED_CHUNK organizations per transaction, written by bulk_insert, progress printed.
    """
    now = rt.clock.now()
    started = time.monotonic()
    saml_template, mapping = template["saml_config"], template["attribute_mapping"]
    for chunk_start in range(0, count, SEED_CHUNK):
        orgs: list[dict[str, Any]] = []
        doms: list[dict[str, Any]] = []
        conns: list[dict[str, Any]] = []
        for n in range(chunk_start, min(count, chunk_start + SEED_CHUNK)):
            org_id, conn_id = new_id("org"), new_id("conn")
            orgs.append(
                dict(id=org_id, environment_id=env_id, display_name=f"Bench org {n}", external_id=f"bench-{n}",
                     slug=f"bench-{n}", logo_url=None, metadata={}, create_time=now, update_time=now)
            )  # fmt: skip
            doms.append(
                dict(id=new_id("dom"), environment_id=env_id, organization_id=org_id, domain=f"org{n}.bench.test",
                     domain_type=DomainType.ORGANIZATION_DOMAIN.value, verification_status="VERIFIED",
                     verification_token=secrets.token_urlsafe(24), create_time=now, update_time=now)
            )  # fmt: skip
            saml = {**saml_template, **sp_urls(env_url, conn_id), **simulator_urls(env_url, conn_id)}
            conns.append(
                dict(id=conn_id, environment_id=env_id, organization_id=org_id, type="SAML", provider="IDP_SIMULATOR",
                     enabled=True, saml_config=saml, oidc_config=None, attribute_mapping=dict(mapping),
                     create_time=now, update_time=now)
            )  # fmt: skip
        with rt.engine.begin() as conn:
            # A COPY of SEED_CHUNK organizations on a loaded machine may outlast the serving statement_timeout.
            unbounded_statements(conn)
            for table, rows in ((organizations, orgs), (domains, doms), (connections, conns)):
                bulk_insert(conn, table, rows)
        done = min(count, chunk_start + SEED_CHUNK)
        if count > SEED_CHUNK or done == count:
            rate = done / max(time.monotonic() - started, 1e-6)
            print(f"    seeded {done:,}/{count:,} organizations ({rate:,.0f}/s)", flush=True)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> float:
    started = time.monotonic()
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() - started > timeout:
            raise RuntimeError(f"the server did not start; see {log}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def prepare_entryway(database_url: str, workdir: Path, base: str, organizations: int) -> tuple[dict[str, str], Target]:
    """Migrate and seed a fresh database for an Entryway served at `base`: the environment variables that
    serve it and the login target (its app client, `organizations` organizations)."""
    env = {
        **os.environ,
        "ENTRYWAY_DATA_DIR": str(workdir),
        "ENTRYWAY_DATABASE_URL": database_url,
        "ENTRYWAY_MASTER_KEY": new_master_key_text(),
        "ENTRYWAY_PUBLIC_URL": base,
    }
    rt = Runtime.build(load_settings(env=env))
    upgrade(rt.engine)
    seed = seed_development(rt, base, CALLBACK_URL)
    assert seed.plain_secret is not None
    with rt.engine.connect() as conn:
        template = (
            conn.execute(
                select(connections.c.saml_config, connections.c.attribute_mapping).where(
                    connections.c.id == seed.connection_id
                )
            )
            .one()
            ._asdict()
        )
    seed_organizations(rt, seed.environment.id, base, template, organizations)
    rt.engine.dispose()
    flush_to_disk(database_url)
    return env, Target("entryway", base, seed.client_id, seed.plain_secret, organizations)


def flush_to_disk(database_url: str) -> None:
    """Write what seeding left in memory to disk now, not during the measurement.

    Seeding 100,000 organizations writes about 390 MB on PostgreSQL (WAL and table pages). Left to the kernel,
    that dirty page cache was written back about 30 seconds later (its dirty_expire_centisecs), inside the
    measured runs: `vmstat` showed 250 MB written in one second of the paced pass, and every COMMIT's WAL flush
    waited behind it. A production database with 100,000 organizations did not write them all half a minute
    before its traffic, so the benchmark flushes them first: PostgreSQL's CHECKPOINT (its buffers to the
    files, fsync'd), then the kernel's sync (SQLite's file, and anything else still dirty).
    """
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    os.sync()


@contextmanager
def entryway(database_url: str, workdir: Path, organizations: int, workers: int) -> Iterator[tuple[Target, float]]:
    """Migrate and seed a fresh database; serve it with uvicorn (`workers` processes). Yields the target and
    the start-up time (process start to the first healthy answer)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env, target = prepare_entryway(database_url, workdir, base, organizations)
    command = [
        sys.executable, "-m", "uvicorn", "entryway.asgi:create", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            startup = _wait_healthy(f"{base}/healthz", process, log_path)
            if workers > 1:
                # /healthz answers once one worker is up; wait for every worker (their pids appear as children)
                deadline = time.monotonic() + 60
                while len(process_tree(process.pid)) < workers + 1 and time.monotonic() < deadline:
                    time.sleep(0.05)
            target.pids = process_tree(process.pid)
            target.postgres_url = database_url if database_url.startswith("postgresql") else None
            yield target, startup
        finally:
            _stop(process)


def jackson_installed() -> bool:
    return (JACKSON_DIR / "node_modules" / "@boxyhq" / "saml-jackson").is_dir()


def install_jackson() -> None:
    """npm ci from the lock file, once (the Makefile's bench target does the same)."""
    marker = JACKSON_DIR / "node_modules" / ".package-lock.json"
    lock = JACKSON_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("installing SAML Jackson (npm ci in bench/jackson) …", flush=True)
    subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=JACKSON_DIR, check=True)


@contextmanager
def jackson(engine: str, database: str, workdir: Path, organizations: int) -> Iterator[tuple[Target, float]]:
    log_path = workdir / f"jackson-{engine}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", "server.mjs", engine, database, str(organizations)],
            cwd=JACKSON_DIR,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        try:
            assert process.stdout is not None
            line = b""
            while not line.startswith(b"listening"):
                line = process.stdout.readline()
                if not line and process.poll() is not None:
                    raise RuntimeError(f"the Jackson harness did not start; see {log_path}")
            base, ready = line.split()[1].decode(), float(line.split()[2])
            # The harness's own count: process start to Jackson ready, before it seeds its connections.
            startup = ready
            _wait_healthy(f"{base}/healthz", process, log_path)
            target = Target("jackson", base, "", "dummy", organizations)
            target.pids = process_tree(process.pid)
            target.postgres_url = database if engine == "postgres" else None
            yield target, startup
        finally:
            _stop(process)
