"""Private keys and IdP secrets at rest: sealed under a data key that a master key wraps, bound to their context.
Runs on SQLite and PostgreSQL (the data keys live in the database)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select, update

from entryway.keys.sealing import MasterKeys, Sealer, SealError, data_key_of, master_key_id
from entryway.store.tables import data_keys


def test_round_trip(engine: Engine) -> None:
    sealer = Sealer(os.urandom(32), engine)
    assert sealer.open(sealer.seal(b"secret", "ctx"), "ctx") == b"secret"


def test_sealing_is_randomized(engine: Engine) -> None:
    sealer = Sealer(os.urandom(32), engine)
    assert sealer.seal(b"secret", "ctx") != sealer.seal(b"secret", "ctx")


def test_value_names_its_data_key_and_the_data_key_its_master(engine: Engine) -> None:
    master = os.urandom(32)
    sealed = Sealer(master, engine).seal(b"secret", "ctx")
    key_id = data_key_of(sealed)
    assert key_id is not None and key_id.startswith("dk_")
    with engine.connect() as conn:
        row = conn.execute(select(data_keys).where(data_keys.c.id == key_id)).one()
    assert row.master_key_id == master_key_id(master) and row.status == "active"
    assert b"secret" not in row.wrapped_key and len(row.wrapped_key) == 12 + 32 + 16


def test_one_data_key_seals_many_values(engine: Engine) -> None:
    sealer = Sealer(os.urandom(32), engine)
    assert data_key_of(sealer.seal(b"a", "x")) == data_key_of(sealer.seal(b"b", "y"))


def test_wrong_master_key_is_refused(engine: Engine) -> None:
    sealed = Sealer(os.urandom(32), engine).seal(b"secret", "ctx")
    with pytest.raises(SealError, match="which this process does not have"):
        Sealer(os.urandom(32), engine).open(sealed, "ctx")


def test_previous_master_key_still_opens(engine: Engine) -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed = Sealer(old, engine).seal(b"secret", "ctx")
    assert Sealer(MasterKeys(new, [old]), engine).open(sealed, "ctx") == b"secret"


def test_a_data_key_rewrapped_under_a_forged_master_id_is_refused(engine: Engine) -> None:
    """The master key id is only a label: a row claiming another master still has to unwrap under it."""
    master, other = os.urandom(32), os.urandom(32)
    sealed = Sealer(master, engine).seal(b"secret", "ctx")
    with engine.begin() as conn:
        conn.execute(update(data_keys).values(master_key_id=master_key_id(other)))
    with pytest.raises(SealError, match="could not be unwrapped"):
        Sealer(MasterKeys(master, [other]), engine).open(sealed, "ctx")


def test_other_context_is_refused(engine: Engine) -> None:
    """A sealed key copied onto another row cannot be opened there."""
    sealer = Sealer(os.urandom(32), engine)
    with pytest.raises(SealError):
        sealer.open(sealer.seal(b"secret", "signing_key:a"), "signing_key:b")


def test_tampered_bytes_are_refused(engine: Engine) -> None:
    sealer = Sealer(os.urandom(32), engine)
    sealed = bytearray(sealer.seal(b"secret", "ctx"))
    sealed[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(sealed), "ctx")


def test_unknown_format_is_refused(engine: Engine) -> None:
    with pytest.raises(SealError, match="unknown format"):
        Sealer(os.urandom(32), engine).open(b"\x07" + os.urandom(40), "ctx")


def test_values_from_before_envelope_encryption_still_open(engine: Engine) -> None:
    """v1: sealed directly under the master key (0x01, nonce, ciphertext); opened under current or previous."""
    old, new = os.urandom(32), os.urandom(32)
    nonce = os.urandom(12)
    v1 = b"\x01" + nonce + AESGCM(old).encrypt(nonce, b"secret", b"ctx")
    assert Sealer(old, engine).open(v1, "ctx") == b"secret"
    assert Sealer(MasterKeys(new, [old]), engine).open(v1, "ctx") == b"secret"
    with pytest.raises(SealError):
        Sealer(new, engine).open(v1, "ctx")
