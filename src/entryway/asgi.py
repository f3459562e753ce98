"""ASGI entry point for uvicorn (`--factory entryway.asgi:create`), used by `entryway serve`."""

from __future__ import annotations

import sys

# httpx's package imports its command-line client (httpx._main) when it can, and that pulls in rich and pygments
# (about 5 MB per worker) that a server never uses. Marking the module absent makes httpx skip it, as it does
# when those extras are not installed; this module is imported before anything that imports httpx.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from entryway.malloc_arenas import limit_malloc_arenas  # noqa: E402

# Before anything starts a thread: each worker's memory, see entryway/malloc_arenas.py.
limit_malloc_arenas()

from fastapi import FastAPI  # noqa: E402

from entryway.app import create_app  # noqa: E402
from entryway.config import load_settings  # noqa: E402
from entryway.observability import json_logs  # noqa: E402
from entryway.runtime import Runtime  # noqa: E402
from entryway.startup_heap import freeze_startup_heap  # noqa: E402


def create() -> FastAPI:
    json_logs.configure("INFO", json_lines=True)
    # The periodic jobs and the webhook worker start with the app (its lifespan), in each worker process.
    app = create_app(Runtime.build(load_settings()))
    freeze_startup_heap()  # last: full collections then skip everything start-up made (entryway/startup_heap.py)
    return app
