"""Benchmark: full SP-initiated logins over HTTP against a real Entryway server, on SQLite and PostgreSQL.

Each backend gets a fresh database, migrated and seeded like `entryway dev` (Test Organization + IdP simulator).
The server runs in a subprocess: uvicorn, one worker, on a loopback port, as `entryway serve` runs it (minus
the access log). Several client threads then drive whole logins:

    authorize   GET  /oauth/authorize                    (Entryway: validate, store auth request, AuthnRequest)
    simulator   POST /sso/v1/simulator/{conn}/login      (the development IdP signs a response: NOT SP cost)
    acs         POST /sso/v1/saml/{conn}/callback        (Entryway: verify XML-DSig, replay check, issue code)
    token       POST /oauth/token                        (Entryway: client auth, redeem code, sign two JWTs)

and the run prints flows/s, per-step p50/p95 and the server's CPU per login, per backend; then a sequential
pass attributes the server's CPU to each step.

    .venv/bin/python bench/login_flow.py [--logins 600] [--concurrency 8] [--time-limit 60] [--cpu-logins 300]
                                          [--backends sqlite,postgresql] [--postgres-url postgresql://…/postgres]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg

from entryway.config import load_settings, new_master_key_text
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.migrate import upgrade

STEPS = ("authorize", "simulator", "acs", "token")
SP_STEPS = ("authorize", "acs", "token")
CALLBACK = "http://127.0.0.1:9/callback"
WARMUP_LOGINS = 10


@dataclass
class Target:
    base: str
    client_id: str
    client_secret: str
    connection_id: str


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    flows: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class StepClock:
    """Times each step of one login; with a server pid, also the server's CPU seconds during it."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self.took: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        cpu0 = cpu_seconds(self.server_pid) if self.server_pid else 0.0
        t0 = time.perf_counter()
        yield
        self.took[name] = time.perf_counter() - t0
        if self.server_pid:
            self.cpu[name] = cpu_seconds(self.server_pid) - cpu0


def one_login(http: httpx.Client, target: Target, n: int, clock: StepClock) -> None:
    """One whole login, timed step by step. Raises on any unexpected answer."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    with clock.step("authorize"):
        r = http.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": target.client_id,
                "redirect_uri": CALLBACK,
                "state": f"s{n}",
                "nonce": f"n{n}",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "login_hint": f"user{n}@example.com",
            },
        )
    if r.status_code != 302:
        raise RuntimeError(f"authorize: {r.status_code} {r.text[:200]}")
    sso = _query(r.headers["location"])

    with clock.step("simulator"):
        r = http.post(
            f"/sso/v1/simulator/{target.connection_id}/login",
            data={
                "SAMLRequest": sso["SAMLRequest"],
                "RelayState": sso["RelayState"],
                "email": f"user{n}@example.com",
                "first_name": "Bench",
                "last_name": f"User{n}",
                "outcome": "login",
            },
            headers={"accept": "application/json"},
        )
    if r.status_code != 200:
        raise RuntimeError(f"simulator: {r.status_code} {r.text[:200]}")
    answer = r.json()

    with clock.step("acs"):
        r = http.post(
            urlsplit(answer["acs_url"]).path,
            data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]},
        )
    if r.status_code != 302 or "code=" not in r.headers.get("location", ""):
        raise RuntimeError(f"acs: {r.status_code} {r.headers.get('location', r.text[:200])}")
    code = _query(r.headers["location"])["code"]

    with clock.step("token"):
        r = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "client_id": target.client_id,
                "client_secret": target.client_secret,
                "code_verifier": verifier,
            },
        )
    if r.status_code != 200 or "id_token" not in r.json():
        raise RuntimeError(f"token: {r.status_code} {r.text[:200]}")


def drive(target: Target, logins: int, concurrency: int, time_limit: float) -> tuple[Results, float]:
    """Run up to `logins` logins on `concurrency` threads, stopping early at `time_limit` seconds."""
    results = Results()
    counter = iter(range(logins))
    counter_lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def worker() -> None:
        with httpx.Client(base_url=target.base, follow_redirects=False, timeout=30) as http:
            while time.monotonic() < deadline:
                with counter_lock:
                    n = next(counter, None)
                if n is None:
                    return
                clock = StepClock()
                try:
                    one_login(http, target, n, clock)
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
                    with results.lock:
                        results.failures.append(str(exc))
                    continue
                with results.lock:
                    results.flows += 1
                    for step, seconds in clock.took.items():
                        results.timings[step].append(seconds)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    return results, time.perf_counter() - started


def cpu_per_step(target: Target, pid: int, logins: int, time_limit: float) -> dict[str, float]:
    """Server CPU ms per step, from a sequential pass: one request in flight, so its CPU is the server's.

    /proc counts CPU in clock ticks (10 ms), so one request reads 0 or 10 ms; averaged over hundreds of
    logins the ticks attribute the time fairly.
    """
    totals = {s: 0.0 for s in STEPS}
    done = 0
    deadline = time.monotonic() + time_limit
    with httpx.Client(base_url=target.base, follow_redirects=False, timeout=30) as http:
        for n in range(logins):
            if time.monotonic() > deadline:
                break
            clock = StepClock(pid)
            one_login(http, target, 1_000_000 + n, clock)
            done += 1
            for step, seconds in clock.cpu.items():
                totals[step] += seconds
    return {s: 1000 * totals[s] / done for s in STEPS} if done else {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), so the server's cost is measured apart from ours."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"entryway_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[tuple[Target, int]]:
    """Migrate and seed a fresh database, then serve it from a uvicorn subprocess on a loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENTRYWAY_DATA_DIR": str(workdir),
        "ENTRYWAY_DATABASE_URL": database_url,
        "ENTRYWAY_MASTER_KEY": new_master_key_text(),
        "ENTRYWAY_PUBLIC_URL": base,
    }
    rt = Runtime.build(load_settings(env=env))
    upgrade(rt.engine)
    seed = seed_development(rt, base, CALLBACK)
    rt.engine.dispose()
    assert seed.plain_secret is not None
    command = [
        sys.executable, "-m", "uvicorn", "entryway.asgi:create", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {workdir / 'server.log'}")
            time.sleep(0.1)
        yield Target(base, seed.client_id, seed.plain_secret, seed.connection_id), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_backend(name: str, database_url: str, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    with server(database_url, workdir) as (target, pid):
        warm, _ = drive(target, WARMUP_LOGINS, 2, 30)  # first use parses keys and certificates, fills caches
        if warm.failures:
            raise RuntimeError(f"{name}: warm-up failed: {warm.failures[0]}")
        cpu_before = cpu_seconds(pid)
        results, elapsed = drive(target, args.logins, args.concurrency, args.time_limit)
        cpu = cpu_seconds(pid) - cpu_before
        per_step = cpu_per_step(target, pid, args.cpu_logins, args.time_limit) if args.cpu_logins else {}
    row: dict[str, object] = {
        "backend": name,
        "flows": results.flows,
        "failures": len(results.failures),
        "seconds": elapsed,
        "flows_per_s": results.flows / elapsed if elapsed else 0.0,
        "cpu_ms_per_flow": 1000 * cpu / results.flows if results.flows else 0.0,
    }
    for step in STEPS:
        row[f"{step}_p50"] = 1000 * percentile(results.timings[step], 50) if results.timings[step] else 0.0
        row[f"{step}_p95"] = 1000 * percentile(results.timings[step], 95) if results.timings[step] else 0.0
    sp = [sum(parts) for parts in zip(*(results.timings[s] for s in SP_STEPS), strict=True)]
    row["sp_p50"] = 1000 * percentile(sp, 50) if sp else 0.0
    row["cpu_steps"] = per_step
    if results.failures:
        row["first_failure"] = results.failures[0]
    return row


def print_table(rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    print(f"\n{args.logins} logins max, {args.concurrency} concurrent clients, {args.time_limit:.0f} s limit")
    print("latencies in ms (p50 / p95); CPU is the server process's, simulator included\n")
    header = (
        f"{'backend':<11}{'flows':>6}{'fail':>5}{'flows/s':>9}{'cpu ms/flow':>12}"
        + "".join(f"{s:>15}" for s in STEPS)
        + f"{'SP p50':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = "".join(f"{row[f'{s}_p50']:>7.1f} /{row[f'{s}_p95']:>6.1f}" for s in STEPS)
        print(
            f"{row['backend']!s:<11}{row['flows']:>6}{row['failures']:>5}{row['flows_per_s']:>9.1f}"
            f"{row['cpu_ms_per_flow']:>12.2f}{cells}{row['sp_p50']:>9.1f}"
        )
        if "first_failure" in row:
            print(f"  first failure: {row['first_failure']}")
    if any(row["cpu_steps"] for row in rows):
        print(f"\nserver CPU ms per step (sequential pass of {args.cpu_logins} logins, one request in flight)\n")
        header = f"{'backend':<11}" + "".join(f"{s:>11}" for s in STEPS) + f"{'SP total':>11}"
        print(header)
        print("-" * len(header))
        for row in rows:
            steps: dict[str, float] = row["cpu_steps"]  # type: ignore[assignment]
            if steps:
                cells = "".join(f"{steps[s]:>11.2f}" for s in STEPS)
                print(f"{row['backend']!s:<11}{cells}{sum(steps[s] for s in SP_STEPS):>11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=600, help="logins to run per backend (default 600)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds per backend at most (default 60)")
    parser.add_argument(
        "--cpu-logins", type=int, default=300, help="sequential logins for the CPU-per-step pass (0: skip)"
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ENTRYWAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an admin connection; the benchmark creates and drops its own database",
    )
    args = parser.parse_args()
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="entryway-bench-"))
    try:
        for backend in args.backends.split(","):
            print(f"running {backend} …", flush=True)
            if backend == "sqlite":
                (workdir / "sqlite").mkdir()
                url = f"sqlite:///{workdir / 'sqlite' / 'bench.db'}"
                rows.append(run_backend(backend, url, args, workdir / "sqlite"))
            elif backend == "postgresql":
                (workdir / "postgresql").mkdir()
                with postgres_database(args.postgres_url) as url:
                    rows.append(run_backend(backend, url, args, workdir / "postgresql"))
            else:
                parser.error(f"unknown backend {backend!r}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows, args)


if __name__ == "__main__":
    main()
