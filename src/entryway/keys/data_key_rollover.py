"""A fresh data key when the active one has sealed DATA_KEY_MAX_SEALS values or is DATA_KEY_MAX_AGE old, so that no
data key seals more values than AES-GCM allows.

Each sealed value has a random 96-bit nonce, and NIST SP 800-38D bounds a key used so at 2^32 encryptions: past
that, the chance of a repeated nonce (which would expose the key's authentication) is no longer negligible. Every
OIDC login seals the IdP's ID token, so the bound is a matter of volume: the processes count what they seal into
`data_keys.sealed_count`, and the key is replaced at 2^30, with a wide margin below 2^32 for counts not yet
written or lost with a crashed process (keys/seal_counts.py works out the worst case). The process whose write
takes the count to 2^30 replaces the key at once, whatever the rate; this job, daily, is the backstop for volume
(alone it would cover about 37,000 values a second) and replaces a key by age too, so that a key wrapped by the
same master key does not serve forever on a quiet installation. A key made before seals were counted (NULL) is
replaced at the first check. The new key is made under the current master key and the previous ones are retired:
they still open what they sealed (keys/sealing.py), and rotate-master re-seals it all as before. Only a process
holding the master key that wraps the active key replaces it (`Sealer.roll_over`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.store.tables import data_keys

DATA_KEY_MAX_AGE = timedelta(days=30)


def roll_data_key(rt: Runtime) -> int:
    """Make a new active data key when the newest has sealed `rt.sealer.max_seals` values (or is not counted) or is
    older than DATA_KEY_MAX_AGE: 1 when one was made, else 0."""
    rt.sealer.flush_seal_counts()  # this process's share first: the count below is then as fresh as it can be
    now = rt.clock.now()
    with rt.engine.connect() as conn:
        newest = conn.execute(
            select(data_keys.c.id, data_keys.c.create_time, data_keys.c.sealed_count)
            .where(data_keys.c.status == "active")
            .order_by(data_keys.c.create_time.desc(), data_keys.c.id.desc())
            .limit(1)
        ).first()
    if newest is None:
        return 0  # the first value sealed makes the first key
    full = newest.sealed_count is None or newest.sealed_count >= rt.sealer.max_seals
    if not full and now - newest.create_time < DATA_KEY_MAX_AGE:
        return 0
    # Claimed by a conditional UPDATE: None when another process replaced it first, or when this process lacks the
    # master key that wraps it.
    return 0 if rt.sealer.roll_over(newest.id, now) is None else 1
