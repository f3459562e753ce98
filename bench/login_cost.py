"""Where a login's CPU goes: the real application, called in this process, one login at a time.

    .venv/bin/python bench/login_cost.py [--backend sqlite|postgresql] [--logins 600] [--organizations 10]
        [--profile FILE]

`login_flow.py` measures the product as users meet it (a server over HTTP, many clients at once), and its
figures move 15-30% between runs on a shared two-core machine. This script answers a narrower question with
steadier figures: how much CPU each step of a login costs the application itself. It builds the ASGI app as
`entryway serve` does (periodic jobs and the webhook worker off), seeds a fresh database as the benchmark does,
and drives the same logins (`flows.one_login`) through direct ASGI calls: no sockets, no HTTP parsing, no other
process competing. For each step it prints the median CPU of the whole process (the thread pool included) per
call; the median because a call that the scheduler interrupts costs more wall time but also more CPU (caches).

`--profile FILE` then runs as many logins again under cProfile with the thread-pool hop made inline (cProfile
sees one thread only), and writes the stats to FILE (`python -m pstats FILE`). The hop itself (about 0.15 ms a
request) is then missing from the profile, and cProfile's own cost inflates code that makes many small calls.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import flows
import http_client
import servers
from starlette.types import ASGIApp, Message

from entryway.app import create_app
from entryway.config import load_settings
from entryway.runtime import Runtime

BASE = "http://127.0.0.1:8000"


class InProcessClient:
    """`http_client.Client`'s two calls, answered by calling the ASGI app; records each step's process CPU."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.cpu: dict[str, list[float]] = {}
        self._keep_worker_threads()

    def _keep_worker_threads(self) -> None:
        """Under uvicorn each request is a task beside the server's long-lived main task, and anyio's worker
        threads (run_in_threadpool) live as long as that main task. Here each request is run_until_complete's
        own task, which anyio takes for the root: it would start a worker thread for each request and stop it
        when the request ends, 0.1-0.2 ms of CPU a request that a server never pays. A task that lives as long
        as the client, made anyio's root task, keeps the threads as uvicorn does. anyio offers no public way to
        name the root task; without this private variable the figures include the thread starts again."""
        try:
            from anyio._backends._asyncio import _root_task
        except ImportError:
            print("  (anyio changed: each request starts a worker thread, which inflates every step)")
            return
        self._root = self.loop.create_task(asyncio.Event().wait())

        async def set_root() -> None:
            _root_task.set(self._root)

        self.loop.run_until_complete(set_root())

    def close(self) -> None:
        """End the root task, and with it anyio's worker threads (not daemons: they would keep the process)."""
        if hasattr(self, "_root"):
            self._root.cancel()
            self.loop.run_until_complete(asyncio.gather(self._root, return_exceptions=True))
            self.loop.run_until_complete(asyncio.sleep(0))  # the done callbacks that stop the threads
        self.loop.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> http_client.Answer:
        return self._call("GET", path, urlencode(params or {}), b"", {})

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> http_client.Answer:
        form = {"content-type": http_client.FORM, **(headers or {})}
        return self._call("POST", path, "", urlencode(data).encode(), form)

    def _call(self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> http_client.Answer:
        raw = [(b"host", BASE.split("//")[1].encode()), (b"content-length", str(len(body)).encode())]
        raw += [(k.encode(), v.encode()) for k, v in headers.items()]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": raw, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        }  # fmt: skip
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            else:
                answer["body"] += message.get("body", b"")

        started = time.process_time()
        self.loop.run_until_complete(self.app(scope, receive, send))
        self.cpu.setdefault(_step(path), []).append(time.process_time() - started)
        return http_client.Answer(answer["status"], answer["headers"], answer["body"])


def _step(path: str) -> str:
    if path.startswith("/sso/v1/simulator/"):
        return "idp"
    if path.startswith("/sso/v1/saml/"):
        return "acs"
    return path.rsplit("/", 1)[-1]  # authorize, token


@contextmanager
def database(backend: str, workdir: Path, admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'cost.db'}"
    elif backend == "postgresql":
        with servers.postgres_database(admin_url, "cost") as url:
            yield url
    else:
        raise SystemExit(f"unknown backend {backend!r}")


@contextmanager
def inline_thread_pool() -> Iterator[None]:
    """Run thread-pool calls in the calling thread, so that cProfile (one thread only) sees them."""

    async def inline(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    original = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


def run(client: InProcessClient, target: flows.Target, first: int, count: int) -> None:
    for n in range(first, first + count):
        flows.one_login(client, target, n, flows.StepClock())  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", help="sqlite or postgresql")
    parser.add_argument("--logins", type=int, default=600)
    parser.add_argument("--organizations", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of a second run to this file")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ENTRYWAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="entryway-cost-") as tmp,
        database(args.backend, Path(tmp), args.postgres_url) as url,
    ):
        env, target = servers.prepare_entryway(url, Path(tmp), BASE, args.organizations)
        env.update(ENTRYWAY_SCHEDULER="false", ENTRYWAY_WEBHOOK_WORKER="false")
        rt = Runtime.build(load_settings(env=env))
        client = InProcessClient(create_app(rt))
        try:
            # Login n goes to organization n * 7919 mod N (flows.py): consecutive ranges of n, never reused, so with
            # many organizations the measured logins meet organizations the warm-up did not, as in the benchmark.
            warm_up = min(50, args.logins)
            run(client, target, 0, warm_up)  # caches, compiled statements, keys
            client.cpu.clear()
            started = time.process_time()
            run(client, target, warm_up, args.logins)
            total = 1000 * (time.process_time() - started) / args.logins
            medians = {step: 1000 * statistics.median(times) for step, times in client.cpu.items()}
            print(f"{args.backend}, {args.organizations:,} organization(s), {args.logins} logins one at a time")
            print(f"  CPU per login, whole process: {total:.2f} ms (the client's own work included)")
            print("  median CPU per step, ms:      " + "  ".join(f"{s} {m:.2f}" for s, m in medians.items()))
            print(f"  sum of the step medians:      {sum(medians.values()):.2f} ms")
            if args.profile:
                profiler = cProfile.Profile()
                with inline_thread_pool():
                    profiler.enable()
                    run(client, target, warm_up + args.logins, args.logins)
                    profiler.disable()
                profiler.dump_stats(args.profile)
                print(f"  profile of {args.logins} more logins: {args.profile}")
        finally:
            client.close()
            rt.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
