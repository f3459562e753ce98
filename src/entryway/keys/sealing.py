"""Envelope encryption of private keys and IdP secrets at rest (AES-256-GCM, from `cryptography`).

A value is sealed under a **data key**; data keys are stored in `data_keys`, each wrapped by a **master key**
(ENTRYWAY_MASTER_KEY) whose id (`mk_…`, a hash of the key, never the key) is recorded beside it. Rotating the
master key therefore re-wraps a handful of data-key rows (keys/master_rotation.py), and a process that knows
both the old and the new master key (ENTRYWAY_PREVIOUS_MASTER_KEYS) opens everything during the rotation.

Sealed formats:
- v2: 0x02, len(data key id), data key id, 12-byte nonce, ciphertext+tag; associated data binds the value to its
  context (e.g. "signing_key:<kid>") and to the data key id, so a value copied onto another row is refused.
- v1 (before envelope encryption): 0x01, nonce, ciphertext+tag directly under a master key. Still opened;
  `entryway keys rotate-master` re-seals such values as v2.

Every value sealed is counted against its data key (keys/seal_counts.py), and the active key is replaced when it
reaches `max_seals` or its age (keys/data_key_rollover.py), so that no data key nears AES-GCM's 2^32 values.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, insert, select, update

from entryway.ids import new_id
from entryway.keys.seal_counts import DATA_KEY_MAX_SEALS, SealCounts
from entryway.store.tables import data_keys

log = logging.getLogger("entryway.keys")

V1 = 1
ACTIVE_TTL = 30.0  # seconds a process keeps sealing under the active data key it read (a rotation's new key
# is picked up within this; values sealed meanwhile under the retired key stay readable)
V2 = 2
_NONCE = 12
_TAG = 16


class SealError(Exception):
    """Sealed data could not be opened: wrong master key or tampered bytes."""


def master_key_id(key: bytes) -> str:
    """A stable name for a master key that reveals nothing about it (a hash of 256 random bits)."""
    return "mk_" + hashlib.sha256(b"entryway/master-key-id\x00" + key).hexdigest()[:16]


class MasterKeys:
    """The current master key (wraps new data keys) and any previous ones (still unwrap during a rotation)."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        self.current = current
        self.current_id = master_key_id(current)
        self._by_id = {master_key_id(k): k for k in (*previous, current)}

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, key_id: str) -> bytes | None:
        return self._by_id.get(key_id)

    def all(self) -> list[bytes]:
        """Current first: v1 values are tried under each."""
        return [self.current, *(k for i, k in self._by_id.items() if i != self.current_id)]


def _wrap_aad(data_key_id: str) -> bytes:
    return b"entryway/data-key\x00" + data_key_id.encode()


def wrap(master: bytes, data_key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(master).encrypt(nonce, key, _wrap_aad(data_key_id))


def unwrap(master: bytes, data_key_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _wrap_aad(data_key_id))
    except Exception as exc:  # InvalidTag
        raise SealError(f"data key {data_key_id} could not be unwrapped with its master key") from exc


def data_key_of(sealed: bytes) -> str | None:
    """The data key a v2 value names (None for v1 values, sealed directly under a master key)."""
    if len(sealed) < 2 or sealed[0] != V2:
        return None
    length = sealed[1]
    return sealed[2 : 2 + length].decode("ascii", errors="replace")


class Sealer:
    def __init__(
        self,
        master_keys: MasterKeys | bytes,
        engine: Engine,
        *,
        max_seals: int = DATA_KEY_MAX_SEALS,
        counts: SealCounts | None = None,
    ) -> None:
        self.master_keys = master_keys if isinstance(master_keys, MasterKeys) else MasterKeys(master_keys)
        self._engine = engine
        self._keys: dict[str, AESGCM] = {}  # unwrapped data keys by id; their material never changes
        self._active: tuple[str, float] | None = None  # (id, monotonic time read) of the committed active key
        self._lock = threading.Lock()
        self.max_seals = max_seals  # the active key is replaced when its row counts this many (tests lower it)
        self.counts = counts or SealCounts()

    # --- data keys ---------------------------------------------------------------------------------------

    def _conn(self, conn: Connection | None, write: bool = False) -> AbstractContextManager[Connection]:
        if conn is not None:
            return nullcontext(conn)
        return self._engine.begin() if write else self._engine.connect()

    def _load(self, conn: Connection, data_key_id: str) -> AESGCM:
        found = self._keys.get(data_key_id)
        if found is not None:
            return found
        row = conn.execute(
            select(data_keys.c.wrapped_key, data_keys.c.master_key_id).where(data_keys.c.id == data_key_id)
        ).one_or_none()
        if row is None:
            raise SealError(f"the data key {data_key_id} a sealed value names does not exist")
        master = self.master_keys.get(row.master_key_id)
        if master is None:
            raise SealError(
                f"data key {data_key_id} is wrapped by master key {row.master_key_id}, which this process does not "
                f"have (it has {', '.join(self.master_keys.ids)}): set ENTRYWAY_MASTER_KEY or "
                "ENTRYWAY_PREVIOUS_MASTER_KEYS"
            )
        aead = AESGCM(unwrap(master, data_key_id, row.wrapped_key))
        with self._lock:
            self._keys[data_key_id] = aead
        return aead

    def active_data_key(self, conn: Connection) -> str:
        """The data key new values are sealed under: the newest active one, made on first use.

        A committed key is remembered for ACTIVE_TTL seconds (sealing happens on the login path: an OIDC login
        keeps the IdP's ID token). A key made here is made in the caller's transaction and not remembered, so a
        rollback takes it away together with the values sealed under it; two instances making one at once is
        harmless (the newest is used from then on).
        """
        now = time.monotonic()
        cached = self._active
        if cached is not None and now - cached[1] < ACTIVE_TTL:
            return cached[0]
        with self._engine.connect() as committed:
            found = self._newest_active(committed)
        if found is not None:
            self._active = (found, now)
            return found
        return self._newest_active(conn) or self.create_data_key(conn)

    @staticmethod
    def _newest_active(conn: Connection) -> str | None:
        row = conn.execute(
            select(data_keys.c.id)
            .where(data_keys.c.status == "active")
            .order_by(data_keys.c.create_time.desc(), data_keys.c.id.desc())
            .limit(1)
        ).first()
        return str(row.id) if row is not None else None

    def forget_active(self) -> None:
        self._active = None

    def create_data_key(self, conn: Connection, now: datetime | None = None) -> str:
        key_id = new_id("dk")
        now = now or datetime.now(UTC)
        conn.execute(
            insert(data_keys).values(
                id=key_id,
                wrapped_key=wrap(self.master_keys.current, key_id, AESGCM.generate_key(256)),
                master_key_id=self.master_keys.current_id,
                created_under=self.master_keys.current_id,
                status="active",
                create_time=now,
                update_time=now,
            )
        )
        return key_id

    def replace_active_data_key(self, conn: Connection, now: datetime | None = None) -> str:
        """Make a new active data key and retire the others (they still open what they sealed), in the caller's
        transaction; call `forget_active` once it commits. For rotate-master and `roll_over`."""
        now = now or datetime.now(UTC)
        key_id = self.create_data_key(conn, now)
        conn.execute(
            update(data_keys)
            .where(data_keys.c.id != key_id, data_keys.c.status == "active")
            .values(status="retired", update_time=now)
        )
        return key_id

    def roll_over(self, key_id: str, now: datetime | None = None) -> str | None:
        """Replace the active data key `key_id`, which reached its age or volume limit, in a transaction of its own:
        the new key's id, or None when this process does not. It does not when the key is no longer active (another
        process replaced it first: the conditional UPDATE lets one of several at once through, and reads nothing
        before it, so SQLite has no stale snapshot to refuse) or when the key is wrapped by a master key other
        than this process's current one (mid-rotation, or a process given only an old master key: a key it made
        would be wrapped by a master key on its way out; the process holding the current one rolls)."""
        now = now or datetime.now(UTC)
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(data_keys)
                .where(
                    data_keys.c.id == key_id,
                    data_keys.c.status == "active",
                    data_keys.c.master_key_id == self.master_keys.current_id,
                )
                .values(status="retired", update_time=now)
            ).rowcount
            if claimed != 1:
                return None
            new_key = self.replace_active_data_key(conn, now)
        self.forget_active()
        return new_key

    # --- counting ----------------------------------------------------------------------------------------

    def flush_seal_counts(self) -> bool:
        """Add this process's seal counts to their keys' rows now, and replace the active key if that brings it to
        `max_seals` (or it was made before seals were counted). False, logged, when the database failed: the
        counts are kept for the next write. Run in the background after a seal, and at a graceful shutdown."""
        try:
            totals = self.counts.write(self._engine)
        except Exception as exc:  # the next seal, the job or the shutdown writes them
            log.warning("data key seal counts not written (%s): kept for the next write", type(exc).__name__)
            return False
        for key_id, total in totals.items():
            if total is not None and total < self.max_seals:
                continue
            try:
                self._replace_full(key_id, total)
            except Exception as exc:  # counted all the same: the next write or the daily job tries again
                log.warning("a full data key could not be replaced (%s): tried again later", type(exc).__name__)
        return True

    def _replace_full(self, key_id: str, total: int | None) -> None:
        if self.roll_over(key_id) is not None:
            log.info("the active data key reached its limit of sealed values (or was not counted): replaced")
            return
        with self._engine.connect() as conn:
            row = conn.execute(
                select(data_keys.c.master_key_id).where(data_keys.c.id == key_id, data_keys.c.status == "active")
            ).first()
        if row is not None and total is not None:
            # Nobody replaced it, and this process may not: it is wrapped by a master key other than this process's
            # current one (ENTRYWAY_MASTER_KEY changed, `rotate-master` not run yet). Left so, it would go on
            # sealing towards AES-GCM's 2^32: an operator must act.
            log.error(
                "the active data key %s has sealed %d values, at or over its limit of %d, and is wrapped by master "
                "key %s while this process's current master key is %s: run `entryway keys rotate-master`, which "
                "replaces it",
                key_id,
                total,
                self.max_seals,
                row.master_key_id,
                self.master_keys.current_id,
            )

    def _count(self, key_id: str) -> None:
        if not self.counts.add(key_id):
            return
        try:
            threading.Thread(target=self.flush_seal_counts, name="entryway-seal-counts", daemon=True).start()
        except RuntimeError as exc:
            # No thread to be had (the process's thread limit, interpreter shutdown). The value is sealed and its
            # login goes on; without this the seal would fail and no later seal would ever start a write.
            self.counts.write_not_started()
            log.warning("data key seal counts not written (%s): kept for the next write", exc)

    def unlockable(self) -> bool:
        """Can this process open the data keys in use? False when they are wrapped by a master key it lacks
        (an instance started with only the old key after `rotate-master`): it must not take traffic."""
        return self.lock_problem() is None

    def lock_problem(self) -> str | None:
        """Why this process cannot open the data keys in use (naming the master key it lacks), or None."""
        with self._engine.connect() as conn:
            ids = conn.execute(select(data_keys.c.id)).scalars().all()
            try:
                for key_id in ids:
                    self._load(conn, key_id)
            except SealError as exc:
                return str(exc)
        return None

    # --- values ------------------------------------------------------------------------------------------

    @staticmethod
    def _aad(context: str, data_key_id: str) -> bytes:
        return b"entryway/v2\x00" + context.encode() + b"\x00" + data_key_id.encode()

    def seal(
        self, plaintext: bytes, context: str, conn: Connection | None = None, *, data_key_id: str | None = None
    ) -> bytes:
        """Seal under the active data key (or the one named). Pass the caller's `conn` inside a write transaction."""
        with self._conn(conn, write=True) as c:
            key_id = data_key_id or self.active_data_key(c)
            aead = self._load(c, key_id)
        nonce = os.urandom(_NONCE)
        ident = key_id.encode("ascii")
        sealed = bytes([V2, len(ident)]) + ident + nonce + aead.encrypt(nonce, plaintext, self._aad(context, key_id))
        self._count(key_id)
        return sealed

    def open(self, sealed: bytes, context: str, conn: Connection | None = None) -> bytes:
        if len(sealed) >= 1 and sealed[0] == V1:
            return self._open_v1(sealed, context)
        key_id = data_key_of(sealed)
        if key_id is None or len(sealed) < 2 + len(key_id) + _NONCE + _TAG:
            raise SealError("sealed value has an unknown format")
        start = 2 + len(key_id)
        if key_id in self._keys:
            aead = self._keys[key_id]
        else:
            with self._conn(conn) as c:
                aead = self._load(c, key_id)
        try:
            return aead.decrypt(sealed[start : start + _NONCE], sealed[start + _NONCE :], self._aad(context, key_id))
        except Exception as exc:  # InvalidTag: never say more than that it failed
            raise SealError("sealed value could not be opened (tampered, or sealed for another row)") from exc

    def _open_v1(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 1 + _NONCE + _TAG:
            raise SealError("sealed value has an unknown format")
        for master in self.master_keys.all():
            try:
                return AESGCM(master).decrypt(sealed[1:13], sealed[13:], context.encode())
            except Exception:  # noqa: S112 - the next master key may be the one
                continue
        raise SealError("sealed value could not be opened with any configured master key")
