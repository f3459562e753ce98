"""Jobs run against a frozen clock (moved by the tests) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entryway.clock import Clock, FrozenClock


@pytest.fixture
def clock() -> Clock:
    return FrozenClock(datetime.now(UTC))
