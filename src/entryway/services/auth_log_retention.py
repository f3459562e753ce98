"""The server's own purge of the auth log: once an hour, in a daemon thread, every environment's events
older than ENTRYWAY_AUTH_LOG_RETENTION_DAYS are deleted. Several instances may purge at once: deleting rows
that another instance already deleted is harmless."""

from __future__ import annotations

import logging
import threading

from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.environments import list_environments

log = logging.getLogger("entryway.auth_log")
INTERVAL_SECONDS = 3600


def purge_all(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        every = list_environments(conn)
    removed = 0
    for env in every:
        with rt.engine.begin() as conn:
            removed += auth_log.purge(rt, conn, env.id)
    return removed


def start_purger(rt: Runtime, interval: float = INTERVAL_SECONDS) -> threading.Event:
    """Purge now and then every `interval` seconds until the returned event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                removed = purge_all(rt)
                if removed:
                    log.info("auth log purge deleted %d event(s)", removed)
            except Exception as exc:  # a failed purge is retried next hour; it must never stop the server
                log.warning("auth log purge failed: %s", type(exc).__name__)
            stop.wait(interval)

    threading.Thread(target=run, name="auth-log-purge", daemon=True).start()
    return stop
