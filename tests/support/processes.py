"""Third-party peers (Node IdPs and OPs) run as child processes that announce themselves on their first line."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def announced_process(command: list[str], cwd: Path, ready: str, what: str, timeout: float = 20) -> Iterator[str]:
    """Start `command`; wait for a first stdout line `<ready> <value>` and yield the value; stop it afterwards."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line: list[str] = []
        # A reader thread, so a peer that never prints cannot hang the test past `timeout`.
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
        reader.start()
        reader.join(timeout=timeout)
        if not line or not line[0].startswith(ready + " "):
            process.kill()
            raise RuntimeError(f"{what} did not start: {process.stderr.read() if process.stderr else ''}")
        yield line[0].split()[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
