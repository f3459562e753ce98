"""A server worker freezes its start-up heap out of the cyclic garbage collector (entryway/startup_heap.py), so a
full collection walks what requests left alive, not every module, class and service the worker imported."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

from entryway.startup_heap import freeze_startup_heap
from tests.support.worker_process import run_in_worker_process

PROBE = """
import gc, json
import entryway.asgi
entryway.asgi.create()
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def test_a_worker_built_for_serving_has_its_start_up_heap_frozen(tmp_path: Path) -> None:
    heap = json.loads(run_in_worker_process(tmp_path, PROBE))
    assert heap["frozen"] > 50_000  # the imports and the app: well over 100,000 objects
    assert heap["tracked"] < heap["frozen"] / 10  # what a full collection still walks


def test_a_cycle_start_up_left_behind_is_collected_before_the_freeze() -> None:
    class Node:
        other: object

    alive, dead = Node(), Node()
    alive.other, dead.other = alive, dead  # two reference cycles; `dead`'s is unreachable once the name goes
    gone = weakref.ref(dead)
    del dead
    try:
        assert freeze_startup_heap() > 0
        assert gone() is None  # frozen, it would never have been collected
        assert alive.other is alive
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
