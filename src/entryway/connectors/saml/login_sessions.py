"""The SAML login sessions single logout needs: who the IdP said the user was (NameID with its qualifiers) and
which of its sessions (SessionIndex), stored under the sid of the tokens the login issued.

A record lives at most RECORD_TTL (or until the IdP's SessionNotOnOrAfter, when sooner): long enough to cover
an IdP session of a working day, short enough that the table does not grow with every login ever made.
Ending a session marks it ended and revokes the access token its code issued, so /userinfo refuses it; the
ID and access tokens the app already verified stay valid where they are checked offline (they are JWTs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from entryway.connectors.saml.response import VerifiedAssertion
from entryway.oidc_provider.codes import revoke_token
from entryway.store.hot_statements import HotStatement
from entryway.store.tables import auth_codes, saml_logouts, saml_sessions
from entryway.store.write_batch import Writes, insert_row

RECORD_TTL = timedelta(hours=24)
MAX_NAME_ID = 512
MAX_QUALIFIER = 256
_INSERT_SESSION = HotStatement(insert(saml_sessions))  # every login: run without SQLAlchemy's per-execution work


@dataclass(frozen=True)
class LoginSession:
    session_id: str
    environment_id: str
    connection_id: str
    name_id: str
    name_id_format: str | None
    name_qualifier: str | None
    sp_name_qualifier: str | None
    session_index: str | None
    create_time: datetime
    expire_time: datetime
    ended_time: datetime | None


def _fits(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_QUALIFIER else None


def record_session(
    db: Writes,
    *,
    session_id: str,
    environment_id: str,
    connection_id: str,
    assertion: VerifiedAssertion,
    now: datetime,
) -> bool:
    """Record the login's NameID and SessionIndex; False when they are too long to keep (logout then stays local)."""
    if len(assertion.name_id) > MAX_NAME_ID or (assertion.session_index and len(assertion.session_index) > 256):
        return False
    expire = now + RECORD_TTL
    if assertion.session_not_on_or_after is not None and assertion.session_not_on_or_after > now:
        expire = min(expire, assertion.session_not_on_or_after)
    insert_row(
        db,
        _INSERT_SESSION,
        dict(
            session_id=session_id,
            environment_id=environment_id,
            connection_id=connection_id,
            name_id=assertion.name_id,
            name_id_format=_fits(assertion.name_id_format),
            name_qualifier=_fits(assertion.name_qualifier),
            sp_name_qualifier=_fits(assertion.sp_name_qualifier),
            session_index=assertion.session_index,
            create_time=now,
            expire_time=expire,
            ended_time=None,
        ),
    )
    return True


def live_session(
    db: Connection, environment_id: str, connection_id: str, session_id: str, now: datetime
) -> LoginSession | None:
    row = db.execute(
        select(saml_sessions).where(
            saml_sessions.c.session_id == session_id,
            saml_sessions.c.environment_id == environment_id,
            saml_sessions.c.connection_id == connection_id,
            saml_sessions.c.ended_time.is_(None),
            saml_sessions.c.expire_time > now,
        )
    ).first()
    return LoginSession(**row._mapping) if row is not None else None


def end_session(db: Connection, session_id: str, now: datetime, access_token_ttl: int) -> bool:
    """End one session (SP-initiated logout); False when it had ended already (two logouts racing)."""
    done = db.execute(
        update(saml_sessions)
        .where(saml_sessions.c.session_id == session_id, saml_sessions.c.ended_time.is_(None))
        .values(ended_time=now)
    )
    if done.rowcount == 1:
        _revoke_tokens(db, [session_id], now, access_token_ttl)
    return done.rowcount == 1


def end_sessions_named(
    db: Connection,
    *,
    connection_id: str,
    name_id: str,
    session_indexes: list[str],
    now: datetime,
    access_token_ttl: int,
) -> list[str]:
    """End the live sessions of `name_id` on the connection (only those with one of `session_indexes`, if any
    are given, as SAML core §3.7.3.2 says); return their session IDs."""
    query = select(saml_sessions.c.session_id).where(
        saml_sessions.c.connection_id == connection_id,
        saml_sessions.c.name_id == name_id,
        saml_sessions.c.ended_time.is_(None),
        saml_sessions.c.expire_time > now,
    )
    if session_indexes:
        query = query.where(saml_sessions.c.session_index.in_(session_indexes))
    ids = [str(r.session_id) for r in db.execute(query).all()]
    if ids:
        db.execute(
            update(saml_sessions)
            .where(saml_sessions.c.session_id.in_(ids), saml_sessions.c.ended_time.is_(None))
            .values(ended_time=now)
        )
        _revoke_tokens(db, ids, now, access_token_ttl)
    return ids


def _revoke_tokens(db: Connection, session_ids: list[str], now: datetime, access_token_ttl: int) -> None:
    issued = db.execute(
        select(auth_codes.c.issued_jti).where(
            auth_codes.c.session_id.in_(session_ids), auth_codes.c.issued_jti.is_not(None)
        )
    ).all()
    for row in issued:
        # An access token lives at most this long after it was issued, which was before now.
        revoke_token(db, str(row.issued_jti), now + timedelta(seconds=access_token_ttl), "saml_logout")


def forget_expired(db: Connection, now: datetime) -> int:
    """Drop session records and pending logouts that can no longer be used."""
    gone = db.execute(delete(saml_sessions).where(saml_sessions.c.expire_time < now)).rowcount or 0
    return gone + (db.execute(delete(saml_logouts).where(saml_logouts.c.expire_time < now)).rowcount or 0)
