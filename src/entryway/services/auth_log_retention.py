"""The server's own purge of the auth log: every environment's events older than
ENTRYWAY_AUTH_LOG_RETENTION_DAYS are deleted. A scheduled job (jobs/catalog.py, hourly by default), so one
instance at a time runs it; `entryway logs purge` does the same by hand."""

from __future__ import annotations

from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.environments import list_environments


def purge_all(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        every = list_environments(conn)
    removed = 0
    for env in every:
        removed += auth_log.purge(rt, env.id)
    return removed
