"""How many request threads a worker runs at once: fewer than the database connections it may open.

Starlette runs a synchronous endpoint (the management API, the dashboard, a login step outside
ENTRYWAY_LOGIN_STEPS_IN_PLACE) in anyio's thread pool, 40 threads by default, and each such request holds a
database connection. With 40 threads on a 30-connection pool, a burst left threads waiting for a connection and
then failing; with fewer threads than connections, a request waits for a thread instead, which costs it nothing
but time. The connections left over serve what runs outside the pool: a login step on the event loop, the
webhook worker, the job scheduler, a second checkout inside one request.
"""

from __future__ import annotations

import anyio.to_thread

from entryway.store.db import POOL_OVERFLOW, POOL_SIZE

# Connections kept free for the event loop's steps, the background threads and nested checkouts.
RESERVED_CONNECTIONS = 10
REQUEST_THREADS = POOL_SIZE + POOL_OVERFLOW - RESERVED_CONNECTIONS


def limit_request_threads() -> None:
    """Set this event loop's thread-pool size (anyio keeps one limiter per loop: call it from the lifespan)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
