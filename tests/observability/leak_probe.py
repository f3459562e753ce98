"""Not part of the suite (its name is not test_*.py): test_log_scan.py runs it alone, in a pytest of its own, to
prove that a run whose server logs credentials (or stops its loggers reaching the scan) fails, and that the same
run without them passes."""

from __future__ import annotations

import logging
import os

from entryway.connectors.oidc.binding import new_state
from entryway.services import owners
from tests.conftest import TEST_MASTER_KEY


def test_logs_what_it_is_told() -> None:
    log = logging.getLogger("entryway.probe")
    state = new_state()  # made by Entryway, so registered with the scan
    owners.hasher().hash("a password nobody may log")  # hashed by Entryway, so registered too
    if os.environ.get("ENTRYWAY_LEAK_PROBE") != "leaks":
        log.info("login step done", extra={"detail": "state accepted"})
        return
    log.info("login step done", extra={"detail": f"state={state}"})
    log.debug("settings: %r", TEST_MASTER_KEY)
    log.warning("sign-in failed for jane@example.com with 'a password nobody may log'")
    logging.getLogger("uvicorn.access").propagate = False  # as uvicorn's own logging set-up does
