"""Real npm OpenID Connect peers, run with Node from this directory's lock file (`make test` runs `npm ci`)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def node_op(port: int, client_id: str, client_secret: str, redirect_uri: str, auth_method: str) -> Iterator[str]:
    """npm oidc-provider listening on 127.0.0.1:port; yields its issuer."""
    process = subprocess.Popen(
        ["node", str(HERE / "op.mjs"), str(port), client_id, client_secret, redirect_uri, auth_method],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
        reader.start()
        reader.join(timeout=20)
        if not line or not line[0].startswith("READY "):
            process.kill()
            raise RuntimeError(f"oidc-provider did not start: {process.stderr.read() if process.stderr else ''}")
        yield line[0].split()[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def run_node(*args: str) -> str:
    done = subprocess.run(["node", *args], cwd=HERE, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"node {args[0]} failed: {done.stderr[-2000:]}")
    return done.stdout
