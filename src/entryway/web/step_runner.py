"""Where a login step's blocking work runs: in the thread pool, or on the worker's event loop when the operator
sets ENTRYWAY_LOGIN_STEPS_IN_PLACE=1.

A login step (authorize, the SAML ACS, the token exchange, the simulator's answer) is CPU work plus a few
indexed statements. Handed to the thread pool, each step costs two GIL hand-overs between the event loop and a
pool thread, and under load the threads convoy on the GIL: over HTTP on two cores a login cost 1.5-2 ms more
server CPU that way than run in place, and on SQLite its p99 was four to seven times worse (bench/README.md,
"Session 6 figures"). Capping the pool at one or two threads did not recover it; only running in place did.

In place, a worker process serves one step at a time, as a synchronous worker does, and throughput comes from
worker processes. The price: while a step waits on the database (a lock held by a migration, an overloaded
server), its whole worker waits, health checks and SIGTERM's refusal of new connections included: a lock for
lock_timeout (5 s) at most, a statement for statement_timeout (store/server_timeouts.py). That is why
it is the operator's choice, for a database that answers in well under a millisecond (docs/deployment.md,
"Login steps in place"), and not the default.

Either way, a step that may wait on another host (an OIDC connection fetching its IdP's discovery document)
runs in the thread pool (`off_loop`), and a PostgreSQL connection attempt is bounded (store/db.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from entryway.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


async def run_step(settings: Settings, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a login step's blocking part: in the thread pool, or in place if the settings ask for it."""
    if settings.login_steps_in_place:
        return func(*args, **kwargs)
    return await run_in_threadpool(func, *args, **kwargs)


async def off_loop(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run work that may wait on another host in the thread pool, whatever the settings."""
    return await run_in_threadpool(func, *args, **kwargs)
