"""Real npm OpenID Connect peers, run with Node from this directory's lock file (`make test` runs `npm ci`)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import announced_process

HERE = Path(__file__).resolve().parent


@contextmanager
def node_op(
    port: int,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    auth_method: str,
    post_logout_redirect_uri: str | None = None,
) -> Iterator[str]:
    """npm oidc-provider listening on 127.0.0.1:port; yields its issuer."""
    command = ["node", str(HERE / "op.mjs"), str(port), client_id, client_secret, redirect_uri, auth_method]
    command += [post_logout_redirect_uri] if post_logout_redirect_uri else []
    with announced_process(command, HERE, "READY", "oidc-provider") as issuer:
        yield issuer


def run_node(*args: str) -> str:
    done = subprocess.run(["node", *args], cwd=HERE, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"node {args[0]} failed: {done.stderr[-2000:]}")
    return done.stdout
