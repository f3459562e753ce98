"""The same live server as the SDK tests: a seeded development environment on a loopback port."""

from tests.sdk.conftest import live

__all__ = ["live"]
