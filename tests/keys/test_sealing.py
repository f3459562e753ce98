"""Private keys and IdP secrets at rest: sealed under the master key, bound to their context."""

from __future__ import annotations

import os

import pytest

from entryway.keys.sealing import Sealer, SealError


def test_round_trip() -> None:
    sealer = Sealer(os.urandom(32))
    assert sealer.open(sealer.seal(b"secret", "ctx"), "ctx") == b"secret"


def test_sealing_is_randomized() -> None:
    sealer = Sealer(os.urandom(32))
    assert sealer.seal(b"secret", "ctx") != sealer.seal(b"secret", "ctx")


def test_wrong_master_key_is_refused() -> None:
    sealed = Sealer(os.urandom(32)).seal(b"secret", "ctx")
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, "ctx")


def test_other_context_is_refused() -> None:
    """A sealed key copied onto another row cannot be opened there."""
    sealer = Sealer(os.urandom(32))
    with pytest.raises(SealError):
        sealer.open(sealer.seal(b"secret", "signing_key:a"), "signing_key:b")


def test_tampered_bytes_are_refused() -> None:
    sealer = Sealer(os.urandom(32))
    sealed = bytearray(sealer.seal(b"secret", "ctx"))
    sealed[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(sealed), "ctx")
