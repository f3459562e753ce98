"""An injectable clock, so that time-dependent validation is deterministic in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._now()


class FrozenClock(Clock):
    """A clock that stands still until moved; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        super().__init__(lambda: self.at)

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)
