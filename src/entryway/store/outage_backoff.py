"""How a background loop (the scheduler, the webhook worker) waits out a database outage, and what it logs.

Every worker process runs these loops, so a loop that retried each second and warned each time would write
thousands of identical lines per minute across a fleet, burying the one line that says what happened. Instead:
one warning when the database stops answering, retries backing off from FIRST_SECONDS to MOST_SECONDS, a
reminder at most every REMIND_SECONDS saying how long it has been down, and one info line when it is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FIRST_SECONDS = 1.0
MOST_SECONDS = 30.0
REMIND_SECONDS = 60.0


class OutageBackoff:
    def __init__(
        self,
        loop: str,
        log: logging.Logger,
        *,
        first: float = FIRST_SECONDS,
        most: float = MOST_SECONDS,
        remind: float = REMIND_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loop = loop  # names the loop in every line, e.g. "scheduler"
        self.log = log
        self.first = first
        self.most = most
        self.remind = remind
        self._monotonic = monotonic
        self._down_since: float | None = None
        self._reminded_at = 0.0
        self._delay = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, exc: BaseException) -> float:
        """Note a failed attempt; returns how many seconds to wait before the next one."""
        now = self._monotonic()
        if self._down_since is None:
            self._down_since = self._reminded_at = now
            self._delay = self.first
            self.log.warning(
                "%s: database unavailable (%s); retrying with backoff up to every %.0f s",
                self.loop,
                type(exc).__name__,
                self.most,
            )
            return self._delay
        self._delay = min(self._delay * 2, self.most)
        if now - self._reminded_at >= self.remind:
            self._reminded_at = now
            self.log.warning(
                "%s: database still unavailable after %.0f s (%s)",
                self.loop,
                now - self._down_since,
                type(exc).__name__,
            )
        return self._delay

    def succeeded(self) -> None:
        """Note a successful attempt: the end of an outage, if there was one."""
        if self._down_since is None:
            return
        self.log.info("%s: database available again after %.0f s", self.loop, self._monotonic() - self._down_since)
        self._down_since = None
