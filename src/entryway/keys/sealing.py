"""Envelope encryption of private keys and IdP secrets at rest, under ENTRYWAY_MASTER_KEY (AES-256-GCM).

Format: version byte, 12-byte nonce, ciphertext+tag. The version byte leaves room for master-key rotation.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class SealError(Exception):
    """Sealed data could not be opened: wrong master key or tampered bytes."""


class Sealer:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 29 or sealed[:1] != _VERSION:
            raise SealError("sealed value has an unknown format")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], context.encode())
        except Exception as exc:  # InvalidTag: never say more than that it failed
            raise SealError("sealed value could not be opened with this master key") from exc
