"""The IdP's ID token of an OIDC login, kept (sealed) for the logout that may follow.

OpenID Connect RP-Initiated Logout §2 makes `id_token_hint` RECOMMENDED; Okta refuses a logout without it. So
when a login through an OIDC connection completes, the IdP's ID token is sealed with the master key (AES-GCM,
bound to the login's session ID) and stored under the session ID of the ID token Entryway issues. It lives at
most `upstream_id_token_ttl_seconds`, is read once by /oidc/logout (and deleted then), and expired ones are
purged by the scheduled purge of login state (jobs/login_state.py). Nothing is kept for IdPs without an
end_session_endpoint, nor tokens larger than MAX_TOKEN_BYTES: the logout then goes to the IdP without a hint,
as before.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Connection, delete, insert, select

from entryway.keys.sealing import SealError
from entryway.runtime import Runtime
from entryway.store.tables import upstream_id_tokens

log = logging.getLogger("entryway.oidc.logout")
MAX_TOKEN_BYTES = 16 * 1024


def _context(session_id: str) -> str:
    return f"upstream_id_token:{session_id}"


def keep_id_token(
    rt: Runtime, conn: Connection, *, env_id: str, connection_id: str, session_id: str, id_token: str
) -> None:
    """Store the IdP's ID token for this login session (in the caller's transaction, with the login)."""
    now = rt.clock.now()
    raw = id_token.encode()
    if len(raw) > MAX_TOKEN_BYTES:
        log.info("the IdP's ID token (%d bytes) is not kept for logout: larger than %d", len(raw), MAX_TOKEN_BYTES)
        return
    conn.execute(
        insert(upstream_id_tokens).values(
            session_id=session_id,
            environment_id=env_id,
            connection_id=connection_id,
            sealed_id_token=rt.sealer.seal(raw, _context(session_id), conn=conn),
            expire_time=now + timedelta(seconds=rt.settings.upstream_id_token_ttl_seconds),
        )
    )


def take_id_token(rt: Runtime, *, env_id: str, connection_id: str, session_id: str) -> str | None:
    """The IdP's ID token of this session, deleted as it is read; None when there is none (or it expired)."""
    with rt.engine.begin() as conn:
        row = conn.execute(
            select(upstream_id_tokens).where(
                upstream_id_tokens.c.session_id == session_id,
                upstream_id_tokens.c.environment_id == env_id,
                upstream_id_tokens.c.connection_id == connection_id,
            )
        ).first()
        if row is None:
            return None
        gone = conn.execute(delete(upstream_id_tokens).where(upstream_id_tokens.c.session_id == session_id))
    if gone.rowcount != 1 or row.expire_time <= rt.clock.now():
        return None  # another logout took it first, or it outlived its time
    try:
        return rt.sealer.open(row.sealed_id_token, _context(session_id)).decode()
    except SealError:
        log.warning("the kept ID token of a session could not be opened (master key changed?); logout goes on")
        return None
