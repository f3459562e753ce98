"""A server worker caps glibc's malloc arenas at two (entryway/malloc_arenas.py), unless the operator chose.

The check runs in a fresh interpreter, as a uvicorn worker starts (`entryway.asgi` is what it imports).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from entryway.malloc_arenas import WORKER_ARENAS, glibc, limit_malloc_arenas


def run_python(code: str) -> str:
    """The last line `code` prints, run without MALLOC_ARENA_MAX: what a worker does must not depend on it."""
    env = {name: value for name, value in os.environ.items() if name != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


# Threads that allocate at the same time, each alive until all have allocated; then glibc's own count of arenas.
ARENAS_AFTER_THREADS = """
    import ctypes, re, threading
    {setup}
    barrier = threading.Barrier(8)
    held = []

    def allocate():
        held.append(bytearray(64 * 1024))  # below the mmap threshold: from the thread's arena
        barrier.wait()

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libc = ctypes.CDLL(None)
    libc.open_memstream.restype = ctypes.c_void_p
    buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size)))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(len(re.findall(r'<heap nr="', ctypes.string_at(buffer, size.value).decode())))
"""


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_a_worker_caps_its_malloc_arenas() -> None:
    plain = int(run_python(ARENAS_AFTER_THREADS.format(setup="")))
    worker = int(run_python(ARENAS_AFTER_THREADS.format(setup="import entryway.asgi")))
    assert plain > WORKER_ARENAS  # the test can tell: every thread got an arena of its own
    assert worker <= WORKER_ARENAS


def test_the_operators_malloc_arena_max_wins() -> None:
    assert limit_malloc_arenas(environ={"MALLOC_ARENA_MAX": "4"}) is False
