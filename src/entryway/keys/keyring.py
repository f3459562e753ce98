"""Per-environment signing keys, loaded once per process.

Key rows are re-read at most every `refresh_seconds` (so a rotation done by another instance is seen), but a
private key's PEM is decrypted and parsed only the first time its kid is met: parsing costs ~40 ms.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import Engine, select

from entryway.keys.material import load_private_key_pem
from entryway.keys.sealing import Sealer
from entryway.store.tables import signing_keys


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey
    certificate_pem: str | None


@dataclass
class _EnvKeys:
    loaded_at: float
    active: dict[str, str | None]  # purpose -> kid of the active key
    jwks: list[dict[str, str]]  # published OIDC keys (next, active, retired-but-unexpired)


class KeyRing:
    def __init__(self, engine: Engine, sealer: Sealer, refresh_seconds: float = 30.0) -> None:
        self._engine = engine
        self._sealer = sealer
        self._refresh = refresh_seconds
        self._envs: dict[str, _EnvKeys] = {}
        self._parsed: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def invalidate(self, environment_id: str | None = None) -> None:
        with self._lock:
            if environment_id is None:
                self._envs.clear()
            else:
                self._envs.pop(environment_id, None)

    def _env(self, environment_id: str) -> _EnvKeys:
        entry = self._envs.get(environment_id)
        if entry is not None and time.monotonic() - entry.loaded_at < self._refresh:
            return entry
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(signing_keys.c.id, signing_keys.c.purpose, signing_keys.c.status, signing_keys.c.public_jwk)
                .where(signing_keys.c.environment_id == environment_id)
                .order_by(signing_keys.c.create_time)
            ).all()
        active: dict[str, str | None] = {}
        jwks: list[dict[str, str]] = []
        for row in rows:
            if row.status == "active":
                active[row.purpose] = row.id
            if row.purpose == "oidc" and row.public_jwk:
                jwks.append(row.public_jwk)
        entry = _EnvKeys(time.monotonic(), active, jwks)
        with self._lock:
            self._envs[environment_id] = entry
        return entry

    def jwks(self, environment_id: str) -> list[dict[str, str]]:
        return self._env(environment_id).jwks

    def active(self, environment_id: str, purpose: str = "oidc") -> SigningKey:
        kid = self._env(environment_id).active.get(purpose)
        if kid is None:
            self.invalidate(environment_id)
            kid = self._env(environment_id).active.get(purpose)
            if kid is None:
                raise LookupError(f"environment {environment_id} has no active {purpose} key")
        return self.by_kid(kid)

    def by_kid(self, kid: str) -> SigningKey:
        parsed = self._parsed.get(kid)
        if parsed is not None:
            return parsed
        with self._engine.connect() as conn:
            row = conn.execute(
                select(signing_keys.c.private_key, signing_keys.c.certificate_pem).where(signing_keys.c.id == kid)
            ).one_or_none()
        if row is None:
            raise LookupError(f"no signing key {kid}")
        pem = self._sealer.open(row.private_key, context=f"signing_key:{kid}")
        parsed = SigningKey(kid, load_private_key_pem(pem), row.certificate_pem)
        with self._lock:
            self._parsed[kid] = parsed
        return parsed
