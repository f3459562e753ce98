"""The optional Redis that instances share their counters through (the management API's rate limit, failed
authentications), for callers that can always do without it.

Redis is optional (DESIGN §1): while it does not answer, each caller counts in its own process and Entryway
keeps working. A Redis that hangs must not add its timeout to every request either, so after a failure Redis
is not asked again for RETRY_SECONDS, and an outage is logged once per such period, not once per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, Final, Literal, TypeVar

log = logging.getLogger("entryway.redis")
T = TypeVar("T")

RETRY_SECONDS = 5.0
TIMEOUT_SECONDS = 0.5


class Down(Enum):
    """What `SharedRedis.run` answers instead of the operation's result while Redis cannot be reached (an enum of
    one member, so that `is DOWN` narrows the answer's type: PEP 484's sentinel)."""

    DOWN = "down"


DOWN: Final = Down.DOWN


class SharedRedis:
    def __init__(self, url: str, purpose: str, clock: Callable[[], float] = time.monotonic) -> None:
        """`purpose` names what falls back to the process in the outage's log line ("the API rate limit")."""
        import redis

        self.client: Any = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        self._purpose = purpose
        self._clock = clock
        self._down_until = 0.0

    def run(self, operation: Callable[[Any], T]) -> T | Literal[Down.DOWN]:
        """`operation(client)`, or DOWN at once while Redis is taken to be down."""
        now = self._clock()
        if now < self._down_until:
            return DOWN
        try:
            return operation(self.client)
        except Exception as exc:  # whatever Redis or the network raises, the caller falls back to its process
            log.warning(
                "redis unavailable: %s is counted in this process for the next %.0f s",
                self._purpose,
                RETRY_SECONDS,
                extra={"reason": type(exc).__name__},
            )
            self._down_until = self._clock() + RETRY_SECONDS
            return DOWN
