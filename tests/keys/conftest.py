"""Key-rotation tests run on a runtime whose clock they move."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entryway.clock import FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development

ENV_URL = "http://localhost:8000"


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def krt(rt: Runtime, frozen: FrozenClock) -> Runtime:
    return Runtime.build(rt.settings, clock=frozen, engine=rt.engine)


@pytest.fixture
def seed(krt: Runtime) -> DevSeed:
    return seed_development(krt, ENV_URL, "http://localhost:3000/callback")
