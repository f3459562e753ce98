"""A fresh data key every DATA_KEY_MAX_AGE, so that no data key seals more values than AES-GCM allows.

Each sealed value has a random 96-bit nonce, and NIST SP 800-38D bounds a key used so at 2^32 encryptions: past
that, the chance of a repeated nonce (which would expose the key's authentication) is no longer negligible. A
data key otherwise changed only at `entryway keys rotate-master`, and every OIDC login seals the IdP's ID token:
at a steady 100 OIDC logins a second one key would reach 2^32 in about 16 months. Thirty days keep any key below
260 million values at that rate; the bound holds up to about 1,650 sealed values a second across the whole
fleet (2^32 in 30 days), a rate the rollover by age alone does not guard beyond (docs/key-rotation.md). The new
key is made under the current master key and the previous ones are retired: they still open what they sealed
(keys/sealing.py), and rotate-master re-seals it all as before.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.store.tables import data_keys

DATA_KEY_MAX_AGE = timedelta(days=30)


def roll_data_key(rt: Runtime) -> int:
    """Make a new active data key when the newest is older than DATA_KEY_MAX_AGE: 1 when one was made, else 0."""
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        newest = conn.execute(
            select(data_keys.c.id, data_keys.c.master_key_id, data_keys.c.create_time)
            .where(data_keys.c.status == "active")
            .order_by(data_keys.c.create_time.desc(), data_keys.c.id.desc())
            .limit(1)
        ).first()
        if newest is None:
            return 0  # the first value sealed makes the first key
        if newest.master_key_id != rt.sealer.master_keys.current_id:
            # Mid-rotation, or a process given only an old master key: a key it made would be wrapped by a master
            # key on its way out. The process holding the current one rolls.
            return 0
        if now - newest.create_time < DATA_KEY_MAX_AGE:
            return 0
        rt.sealer.replace_active_data_key(conn, now)
    rt.sealer.forget_active()
    return 1
