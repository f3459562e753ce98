"""Replay defence (DESIGN §4 SAML 6): every accepted assertion ID is stored under a unique key until it
expires, in the database every instance shares. A second insert of the same ID fails with IntegrityError.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert

from entryway.model.errors import LoginError
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import saml_replay
from entryway.store.write_batch import Writes, insert_row

_REMEMBER = HotStatement(insert(saml_replay))  # every login: run without SQLAlchemy's per-execution work


def remember_assertion(db: Writes, assertion_id: str, connection_id: str, retain_until: datetime) -> None:
    """Raises sqlalchemy IntegrityError when the ID was seen before (at once on a connection, or when a write batch
    is sent); call inside the login's transaction or batch."""
    values = {"assertion_id": assertion_id, "connection_id": connection_id, "expire_time": retain_until}
    insert_row(db, _REMEMBER, values)


def replayed(connection_id: str) -> LoginError:
    return LoginError.wanted_got(
        "invalid_saml_response",
        "This SAML response was already used: sign in again",
        "an assertion ID never seen before",
        "an assertion ID that was already accepted (replay)",
        connection_id=connection_id,
    )


def forget_expired(db: Connection, now: datetime) -> int:
    """Drop IDs whose assertions can no longer validate anyway (their NotOnOrAfter, plus skew, has passed)."""
    return db.execute(delete(saml_replay).where(saml_replay.c.expire_time < now)).rowcount or 0
