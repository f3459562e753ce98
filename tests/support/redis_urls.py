"""Where the tests find Redis: the machine's server (ENTRYWAY_TEST_REDIS_URL, default the local one), and an address
where no Redis answers, for the paths that must keep working without it."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("ENTRYWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
