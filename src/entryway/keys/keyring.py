"""Per-environment signing keys, loaded once per process.

Key rows are re-read at most every `refresh_seconds` (so a rotation done by another instance is seen), but a
private key's PEM is decrypted and parsed only the first time its kid is met: parsing costs ~40 ms.

Which key signs, and which keys are published, follows from each row's times (keys/rotation.py writes them),
not from a flag some process must flip: a key planned by `entryway keys rotate` is published at once and
starts signing at its `activate_time` on every instance; the key it replaces stops signing then
(`retire_time`) and stays published for `retain_seconds` more, the longest life of a token it signed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import Engine, select

from entryway.config import Settings
from entryway.keys.material import load_private_key_pem
from entryway.keys.sealing import Sealer
from entryway.store.tables import signing_keys

# Access tokens (the longest-lived tokens these keys sign) plus the clock skew verifiers allow.
DEFAULT_RETAIN_SECONDS = max(Settings.access_token_ttl_seconds, Settings.id_token_ttl_seconds) + (
    Settings.clock_skew_seconds
)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey
    certificate_pem: str | None


@dataclass(frozen=True)
class KeyRow:
    kid: str
    purpose: str
    status: str
    public_jwk: dict[str, str] | None
    activate_time: datetime | None
    retire_time: datetime | None

    def signs_at(self, now: datetime) -> bool:
        if self.status == "retired" and self.retire_time is None:
            return False
        started = self.status == "active" if self.activate_time is None else self.activate_time <= now
        return started and (self.retire_time is None or self.retire_time > now)

    def published_at(self, now: datetime, retain: timedelta) -> bool:
        if self.status == "retired" and self.retire_time is None:
            return False
        return self.retire_time is None or self.retire_time + retain > now

    def in_service_at(self, now: datetime) -> bool:
        """Signing now or planned to (a "next" key): what an SP metadata document lists."""
        return self.published_at(now, timedelta(0))


@dataclass
class _EnvKeys:
    loaded_at: float
    rows: list[KeyRow]


def signer(rows: list[KeyRow], purpose: str, now: datetime) -> KeyRow | None:
    """The key of `purpose` that signs at `now`: the most recently activated one still in service."""
    live = [r for r in rows if r.purpose == purpose and r.signs_at(now)]
    if live:
        return max(live, key=lambda r: r.activate_time or datetime.min.replace(tzinfo=UTC))
    # A clock behind every key's activation (a replayed or test clock): the key marked active still signs,
    # never a "next" one.
    active = [r for r in rows if r.purpose == purpose and r.status == "active"]
    return active[0] if active else None


class KeyRing:
    def __init__(
        self,
        engine: Engine,
        sealer: Sealer,
        refresh_seconds: float = 30.0,
        retain_seconds: int = DEFAULT_RETAIN_SECONDS,
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        self._refresh = refresh_seconds
        self._retain = timedelta(seconds=retain_seconds)
        self._envs: dict[str, _EnvKeys] = {}
        self._parsed: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def invalidate(self, environment_id: str | None = None) -> None:
        with self._lock:
            if environment_id is None:
                self._envs.clear()
            else:
                self._envs.pop(environment_id, None)

    def rows(self, environment_id: str) -> list[KeyRow]:
        entry = self._envs.get(environment_id)
        if entry is not None and time.monotonic() - entry.loaded_at < self._refresh:
            return entry.rows
        with self._engine.connect() as conn:
            found = conn.execute(
                select(
                    signing_keys.c.id,
                    signing_keys.c.purpose,
                    signing_keys.c.status,
                    signing_keys.c.public_jwk,
                    signing_keys.c.activate_time,
                    signing_keys.c.retire_time,
                )
                .where(signing_keys.c.environment_id == environment_id)
                .order_by(signing_keys.c.create_time, signing_keys.c.id)
            ).all()
        rows = [KeyRow(r.id, r.purpose, r.status, r.public_jwk, r.activate_time, r.retire_time) for r in found]
        with self._lock:
            self._envs[environment_id] = _EnvKeys(time.monotonic(), rows)
        return rows

    def jwks(self, environment_id: str, now: datetime | None = None) -> list[dict[str, str]]:
        """The published OIDC keys: upcoming, signing, and retired ones whose tokens may still be alive."""
        at = now or datetime.now(UTC)
        return [
            r.public_jwk
            for r in self.rows(environment_id)
            if r.purpose == "oidc" and r.public_jwk and r.published_at(at, self._retain)
        ]

    def published(self, environment_id: str, purpose: str, now: datetime, *, retained: bool) -> list[SigningKey]:
        """Keys of `purpose`, the signing one first: in service (active and next), or, with `retained`, also
        the retired ones still within their retention (which may still have to decrypt what was sent to them).
        """
        signing = signer(self.rows(environment_id), purpose, now)
        kids = [
            r.kid
            for r in self.rows(environment_id)
            if r.purpose == purpose and (r.published_at(now, self._retain) if retained else r.in_service_at(now))
        ]
        if signing is not None:
            kids = [signing.kid] + [k for k in kids if k != signing.kid]
        return [self.by_kid(k) for k in kids]

    def active(self, environment_id: str, purpose: str = "oidc", now: datetime | None = None) -> SigningKey:
        at = now or datetime.now(UTC)
        row = signer(self.rows(environment_id), purpose, at)
        if row is None:
            self.invalidate(environment_id)
            row = signer(self.rows(environment_id), purpose, at)
            if row is None:
                raise LookupError(f"environment {environment_id} has no active {purpose} key")
        return self.by_kid(row.kid)

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
        # Every signing key is generated by Entryway (environments.add_signing_key, rotation) and sealed with
        # AEAD bound to its ID, so what opens here is the PEM that was made: re-checking the RSA key cost each
        # worker about 30 ms per key on the first login that used it (bench/README.md, session 6).
        parsed = SigningKey(kid, load_private_key_pem(pem, checked_when_made=True), row.certificate_pem)
        with self._lock:
            self._parsed[kid] = parsed
        return parsed
