"""`entryway serve --workers N`: one set of Prometheus figures for all the workers on a port.

The workers share one listening socket, so a scrape lands on whichever worker accepts it. With per-process
counters, each scrape would read another worker's figures, and Prometheus would take every switch for a counter
reset. Instead every worker's prometheus_client keeps its values in files of one directory (its multiprocess
mode, switched on by PROMETHEUS_MULTIPROC_DIR before the workers start), and any worker's /metrics sums them
(observability/metrics.py). The directory is made fresh for each start and removed at exit: figures left by an
earlier run would be added to this one's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared_directory() -> str | None:
    """The directory the workers of this process group count in, or None when this process counts alone."""
    return os.environ.get(ENV) or None


@contextmanager
def shared_between_workers() -> Iterator[Path]:
    """Set PROMETHEUS_MULTIPROC_DIR to a fresh directory for the workers started inside the block."""
    path = Path(tempfile.mkdtemp(prefix="entryway-metrics-"))
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)
