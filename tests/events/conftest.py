"""Fixtures for events and webhooks: a seeded development environment and endpoints on loopback receivers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from entryway.clock import Clock, FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    # Receivers in these tests listen on 127.0.0.1, which the private-address policy refuses unless allowed.
    rt.settings = replace(rt.settings, allow_private_fetch=True, webhook_timeout_seconds=2.0)
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")


@pytest.fixture
def clock() -> Clock:
    """Frozen at the real time (signatures carry the wall clock), moved by tests to make retries due."""
    return FrozenClock(datetime.now(UTC))
