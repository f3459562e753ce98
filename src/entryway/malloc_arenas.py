"""At most two glibc malloc arenas in a server worker, instead of up to eight per CPU core.

glibc gives each new thread that allocates an arena of its own until there are eight per core, and memory
freed in an arena is reused only by the threads attached to it. A worker's threads (the event loop, anyio's pool
that runs database calls and signature checks, the scheduler, the webhook worker) each end up with one, and each
arena keeps its own free chunks resident. Measured in a benchmark worker after 1,500 logins: 10 arenas holding
32 MB (8 MB of it free) against 2 holding 25 MB (1.3 MB free), 121 MB RSS against 114 MB. Python
allocates with the GIL held, so two arenas add no contention worth measuring (CPU per login unchanged).

An operator's MALLOC_ARENA_MAX wins: glibc has applied it at process start, and this leaves it alone. Other C
libraries (musl) have no such arenas: nothing to do there.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

M_ARENA_MAX = -8  # glibc's <malloc.h>
WORKER_ARENAS = 2


def glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False


def limit_malloc_arenas(arenas: int = WORKER_ARENAS, environ: Mapping[str, str] = os.environ) -> bool:
    """Cap this process's malloc arenas; True when the cap was set. Call it before the process starts threads:
    an arena a thread already has stays."""
    if "MALLOC_ARENA_MAX" in environ or not glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
