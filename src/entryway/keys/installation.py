"""Random secrets of this installation (in `installation_secrets`, sealed), made once on first use and then
shared by every instance. Unlike a key derived from the master key they survive a master-key rotation: an
upstream OIDC login begun before a rotation still finishes after it, on any instance."""

from __future__ import annotations

import os
import threading

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from entryway.runtime import Runtime
from entryway.store.tables import installation_secrets

OIDC_UPSTREAM_BINDING = "oidc_upstream_binding"
_lock = threading.Lock()


def context(name: str) -> str:
    return f"installation_secret:{name}"


def installation_secret(rt: Runtime, name: str) -> bytes:
    """Call outside a write transaction: the first call of an installation commits the new secret itself."""
    cache: dict[str, bytes] = rt.caches.setdefault("installation_secrets", {})  # type: ignore[assignment]
    found = cache.get(name)
    if found is not None:
        return found
    with _lock:
        with rt.engine.connect() as conn:
            sealed = conn.execute(
                select(installation_secrets.c.value).where(installation_secrets.c.name == name)
            ).scalar_one_or_none()
        if sealed is None:
            try:
                with rt.engine.begin() as conn:
                    conn.execute(
                        insert(installation_secrets).values(
                            name=name,
                            value=rt.sealer.seal(os.urandom(32), context(name), conn=conn),
                            create_time=rt.clock.now(),
                        )
                    )
            except IntegrityError:
                pass  # another instance made it first: use theirs
            with rt.engine.connect() as conn:
                sealed = conn.execute(
                    select(installation_secrets.c.value).where(installation_secrets.c.name == name)
                ).scalar_one()
        secret = rt.sealer.open(sealed, context(name))
        cache[name] = secret
        return secret
