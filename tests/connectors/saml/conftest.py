"""SAML connector fixtures: a frozen clock (validity windows are exact), and a world with a test IdP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from entryway.clock import Clock, FrozenClock
from entryway.runtime import Runtime
from tests.cli.conftest import cli_env, run  # noqa: F401 (the CLI fixtures, for the metadata CLI tests)
from tests.connectors.support import SamlWorld, frozen_now, make_world


@pytest.fixture
def clock() -> Clock:
    return FrozenClock(frozen_now())


@pytest.fixture
def world(rt: Runtime) -> Iterator[SamlWorld]:
    yield from make_world(rt)
