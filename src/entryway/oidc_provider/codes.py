"""Authorization codes at the token endpoint: checked against what they were bound to, redeemed exactly once.

RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server MUST deny the
request and SHOULD revoke (when possible) all tokens previously issued based on that authorization code."
Redemption is a conditional UPDATE (used_time IS NULL), so two instances racing on one code issue once.
A code that fails a check is left as it was: bad input never changes stored data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from entryway.model.errors import OAuthError
from entryway.model.profile import Profile
from entryway.oidc_provider import pkce
from entryway.runtime import Runtime
from entryway.services import auth_log
from entryway.services.environments import Environment
from entryway.services.logins import hash_code
from entryway.store.after_commit import Committing, transaction
from entryway.store.hot_statements import HotStatement
from entryway.store.insert_if_absent import insert_if_absent
from entryway.store.tables import auth_codes, revoked_tokens
from entryway.store.write_batch import CountedWrites, WriteBatch


@dataclass(frozen=True)
class CodeGrant:
    """A stored code's bindings and the login it finishes."""

    code_hash: str
    auth_request_id: str
    environment_id: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    scope: str
    session_id: str
    connection_id: str
    organization_id: str
    profile: Profile
    create_time: datetime
    expire_time: datetime
    used_time: datetime | None
    issued_jti: str | None


def _grant(row: Mapping[str, Any]) -> CodeGrant:
    values = dict(row)
    values["profile"] = Profile.from_dict(values["profile"])
    return CodeGrant(**values)


# The token endpoint's statements, built once and run without SQLAlchemy's per-execution work
# (store/hot_statements.py).
_BY_HASH = HotStatement(select(auth_codes).where(auth_codes.c.code_hash == bindparam("hash")))
# Redemption is conditional on used_time IS NULL: two requests racing on one code redeem it once.
_REDEEM = HotStatement(
    update(auth_codes)
    .where(auth_codes.c.code_hash == bindparam("hash"), auth_codes.c.used_time.is_(None))
    .values(used_time=bindparam("now"), issued_jti=bindparam("jti"))
)


def find_code(conn: Connection, env_id: str, code: str) -> CodeGrant | None:
    row = _BY_HASH.first(conn, {"hash": hash_code(code)})
    if row is None or row["environment_id"] != env_id:
        return None
    return _grant(row)


def find_by_issued_token(conn: Connection, env_id: str, jti: str) -> CodeGrant | None:
    """The code whose redemption issued the access token `jti` (for /userinfo)."""
    row = conn.execute(select(auth_codes).where(auth_codes.c.issued_jti == jti)).first()
    if row is None or row.environment_id != env_id:
        return None
    return _grant(dict(row._mapping))


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def check_bindings(
    grant: CodeGrant, *, client_id: str, redirect_uri: str, code_verifier: str | None, now: datetime
) -> None:
    """Raise invalid_grant unless the request matches everything the code was bound to at /oauth/authorize."""
    if grant.client_id != client_id:
        raise _invalid_grant("The code was issued to another client")
    if grant.expire_time <= now:
        raise _invalid_grant("The code has expired: start the login again")
    if grant.redirect_uri != redirect_uri:
        raise _invalid_grant("redirect_uri differs from the one given at /oauth/authorize")
    if grant.code_challenge is None:
        if code_verifier is not None:
            raise _invalid_grant("code_verifier was sent but the authorization request had no code_challenge")
        return
    if code_verifier is None:
        raise _invalid_grant("code_verifier is required: the authorization request had a code_challenge")
    if not pkce.verifier_matches(code_verifier, grant.code_challenge):
        raise _invalid_grant("code_verifier does not match the code_challenge (S256)")


def mark_redeemed(writes: WriteBatch, grant: CodeGrant, issued_jti: str, now: datetime) -> None:
    """Make the one redemption the guard of `writes`: sent, it answers False when another request redeemed the
    code first, and what was given after this is then not stored."""
    writes.guard(_REDEEM, {"hash": grant.code_hash, "now": now, "jti": issued_jti})


def revoke_token(conn: Connection, jti: str, expire_time: datetime, reason: str) -> None:
    """Add `jti` to the revocation list; revoking it twice is not an error."""
    conn.execute(insert_if_absent(conn, revoked_tokens, "jti", jti=jti, expire_time=expire_time, reason=reason))


def revoke_after_reuse(rt: Runtime, conn: Committing, env: Environment, code: CodeGrant) -> None:
    """A code came back after it was redeemed: revoke what it issued and record why in the auth log."""
    # Fetch again: when two requests race, the winner's issued_jti is visible only after its commit.
    row = conn.execute(select(auth_codes.c.issued_jti).where(auth_codes.c.code_hash == code.code_hash)).first()
    issued = row.issued_jti if row is not None else None
    now = rt.clock.now()
    if issued is not None:
        # The access token lives at most this long after it was issued, which was before now.
        revoke_token(conn, issued, now + timedelta(seconds=rt.settings.access_token_ttl_seconds), "code_reuse")
    auth_log.record(
        rt,
        conn,
        environment_id=env.id,
        status=auth_log.FAILED,
        step="token",
        auth_request_id=code.auth_request_id,
        error_code="invalid_grant",
        message="An authorization code was used a second time; the access token it issued is revoked",
        diagnosis={"wanted": "a code not yet used", "got": "a code already redeemed", "revoked_jti": issued},
        organization_id=code.organization_id,
        connection_id=code.connection_id,
    )


def record_exchanged(rt: Runtime, conn: CountedWrites, grant: CodeGrant) -> None:
    """The login is complete: the app holds its tokens."""
    auth_log.record(
        rt,
        conn,
        environment_id=grant.environment_id,
        status=auth_log.SUCCESS,
        step="token",
        auth_request_id=grant.auth_request_id,
        organization_id=grant.organization_id,
        connection_id=grant.connection_id,
        email=grant.profile.email,
    )


def record_exchange_failure(rt: Runtime, env: Environment, grant: CodeGrant | None, error: OAuthError) -> None:
    """A code the app could not exchange: wrong redirect_uri, PKCE verifier, client, an expired or unknown code."""
    error.in_auth_log = True
    if grant is not None and grant.used_time is not None:
        return  # a reused code is recorded by revoke_after_reuse, with what it revoked
    with transaction(rt.engine) as conn:
        auth_log.record(
            rt,
            conn,
            environment_id=env.id,
            status=auth_log.FAILED,
            step="token",
            auth_request_id=grant.auth_request_id if grant else None,
            error_code=error.error,
            message=error.description,
            diagnosis={"wanted": "a code this client may redeem", "got": error.description},
            organization_id=grant.organization_id if grant else None,
            connection_id=grant.connection_id if grant else None,
            email=grant.profile.email if grant else None,
        )
