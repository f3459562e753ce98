"""The store tests' shared fixture: the development seed (an environment, its app client, a connection)."""

from __future__ import annotations

import pytest

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
