"""A server worker's start-up heap is frozen out of the cyclic garbage collector once the app is built.

A worker imports FastAPI, SQLAlchemy, lxml, signxml, pydantic and the app's own modules: about 160,000 objects
the collector tracks, nearly all of them alive for the life of the process. Every full (generation 2)
collection walks all of them again. In benchmark workers one came 5-12 s into serving and took 92-121 ms, and
with login steps in place (web/step_runner.py) every request on that worker waits for it. CPython runs another
whenever the long-lived objects have grown by a quarter since the last one.

`gc.freeze()` moves every object alive at that moment into a permanent generation that collections skip; a
full collection then walks only what was created since: 2.1 ms instead of 93.9 ms, measured after 1,500
logins (bench/README.md, "What changed in session 8: workers freeze their start-up heap"). Reference counting
still frees frozen objects as usual; only a reference cycle among them would never be collected, and the
start-up heap is modules, classes and the app's long-lived services, which live as long as the worker. What
requests allocate is never frozen.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then freeze the rest; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
