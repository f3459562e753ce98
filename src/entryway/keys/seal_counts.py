"""How many values each data key has sealed, fleet-wide: counted in memory as values are sealed, added to
`data_keys.sealed_count` in the background, so that the active key is replaced long before AES-GCM's limit.

Each sealed value has a random 96-bit nonce, and NIST SP 800-38D bounds a key used so at 2^32 encryptions. The
active data key is replaced once its row says DATA_KEY_MAX_SEALS (2^30): the 3 * 2^30 (about 3.2 billion) values
between the two are the margin for what the row has not been told, or is told late.

A seal is on the login path, so it writes nothing: it adds one to this process's count for its key (a lock and a
dict). A seal that brings a key's count to FLUSH_AFTER, or comes FLUSH_SECONDS after the last write, starts one
background write: a short transaction of its own that adds the counts to the rows (so a caller's rollback never
takes a count with it, and no login waits on it or holds a lock on a data key's row), and whose caller
(keys/sealing.py) replaces the active key when its new total reaches the limit. The server also writes the counts
at a graceful shutdown, `rotate-master` at its end, and the data_key_rollover job before it looks.

Worst case, the key in use when the limit is reached goes on sealing until every process has moved to its
successor, and has sealed at most
- 2^30, what its row said;
- plus what P processes had not written yet: fewer than FLUSH_AFTER each, and what each seals while its write
  is under way (milliseconds; seconds on a database too slow to serve logins either);
- plus what processes that died without a graceful shutdown never wrote: as much each;
- plus R * (ACTIVE_TTL + the write's latency) at R values a second fleet-wide: the other processes keep sealing
  under the cached key for up to ACTIVE_TTL (30 s) after the replacement.
With 1,000 processes, 10,000 that died in one key's life and a write taking a second, the first three come to
2^30 + 1.1e8, and the total stays below 2^32 up to about 100 million values a second (3.1e9 in 31 s): no fleet
seals that many, as nearly every value sealed is a row written. The daily data_key_rollover job looks at the same
count as a backstop (it alone would cover about 37,000 a second: 3 * 2^30 in a day). A process without the master
key that wraps the active key never replaces it (keys/sealing.py: `roll_over`), as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, select, update

from entryway.store.tables import data_keys

DATA_KEY_MAX_SEALS = 2**30
FLUSH_AFTER = 10_000
FLUSH_SECONDS = 60.0
# After a failed write, seals start none for this long: a database that refuses writes is not asked again at every
# seal, nor the failure logged at every seal.
FAILED_WRITE_PAUSE = 5.0


class SealCounts:
    """Per data key, the values this process sealed that its row does not count yet."""

    def __init__(
        self,
        flush_after: int = FLUSH_AFTER,
        flush_seconds: float = FLUSH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flush_after = flush_after
        self.flush_seconds = flush_seconds
        self._monotonic = monotonic
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._written_at = monotonic()
        self._paused_until = 0.0
        self._writing = False  # a write is due or under way: a seal does not start another
        self._write_lock = threading.Lock()  # writes one at a time, so the last (at shutdown) waits for the others

    def add(self, key_id: str) -> bool:
        """Count one value sealed under `key_id`; True when the caller should start a write."""
        with self._lock:
            count = self._pending.get(key_id, 0) + 1
            self._pending[key_id] = count
            if self._writing:
                return False
            now = self._monotonic()
            if now < self._paused_until:
                return False
            if count < self.flush_after and now - self._written_at < self.flush_seconds:
                return False
            self._writing = True
            return True

    def write_not_started(self) -> None:
        """The write `add` asked for could not be started (no thread to be had): the next seal after
        FAILED_WRITE_PAUSE asks again, as after a failed write, and the counts wait for it."""
        with self._lock:
            self._writing = False
            self._paused_until = self._monotonic() + FAILED_WRITE_PAUSE

    def pending(self, key_id: str) -> int:
        with self._lock:
            return self._pending.get(key_id, 0)

    def write(self, engine: Engine) -> dict[str, int | None]:
        """Add the counts to their rows in one transaction of its own; returns the new totals of the keys still
        active (None: a key made before seals were counted). When it fails the counts are kept for the next."""
        with self._write_lock:
            with self._lock:
                taken, self._pending = self._pending, {}
                self._written_at = self._monotonic()
            try:
                if not taken:
                    return {}
                with engine.begin() as conn:
                    # In id order: two processes writing the same keys take their row locks in the same order.
                    for key_id, count in sorted(taken.items()):
                        conn.execute(
                            update(data_keys)
                            .where(data_keys.c.id == key_id)
                            .values(sealed_count=data_keys.c.sealed_count + count)  # NULL (unknown) stays NULL
                        )
                    rows = conn.execute(
                        select(data_keys.c.id, data_keys.c.sealed_count).where(
                            data_keys.c.id.in_(taken), data_keys.c.status == "active"
                        )
                    ).all()
                # A key whose row is gone (made in a transaction that rolled back) is forgotten with its count.
                return {str(r.id): r.sealed_count for r in rows}
            except BaseException:
                with self._lock:
                    for key_id, count in taken.items():
                        self._pending[key_id] = self._pending.get(key_id, 0) + count
                    self._paused_until = self._monotonic() + FAILED_WRITE_PAUSE
                raise
            finally:
                with self._lock:
                    self._writing = False
