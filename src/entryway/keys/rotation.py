"""Signing-key rotation (CONTRACT §3.3: keys are published before they sign and stay published after).

`rotate` adds a key that is published at once (status "next") and signs from `now + grace`; the key signing
today keeps signing until then and is published for the life of its tokens afterwards. The grace must cover
every cache between Entryway and a verifier: /keys is cacheable for JWKS_MAX_AGE seconds and each instance
re-reads key rows every KEYRING_REFRESH seconds, so a shorter grace could sign with a key a verifier cannot
see yet.

The same design serves both purposes an environment signs for. `oidc` keys sign tokens and are published at
/keys. The `saml_sp` key signs AuthnRequests and LogoutRequests and decrypts assertions; "published" means
listed in every connection's SP metadata, where the next key appears beside the current one. Its verifiers
are IdPs, many of which copy the SP metadata by hand, so its default grace is a week, not an hour; a retired
SP key leaves the metadata at once but still decrypts for the retention period (an IdP that was late to
re-read the metadata may still encrypt to it).

The `status` column is kept in step with the times whenever keys are listed or rotated ("next" becomes
"active", a replaced key "retired"); which key signs never depends on that bookkeeping having run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import Connection, insert, select, update

from entryway.ids import new_id
from entryway.keys.keyring import DEFAULT_RETAIN_SECONDS, KeyRow, signer
from entryway.keys.material import (
    certificate_pem,
    generate_rsa_key,
    private_key_pem,
    public_jwk,
    self_signed_certificate,
)
from entryway.model.errors import ApiError, FieldViolation
from entryway.runtime import Runtime
from entryway.store.tables import environments, signing_keys

JWKS_MAX_AGE = 300  # /keys and the SP metadata are both served with max-age=300
KEYRING_REFRESH = 30
MIN_GRACE_SECONDS = JWKS_MAX_AGE + KEYRING_REFRESH + 30
DEFAULT_GRACE_SECONDS = 3600
PURPOSES = ("oidc", "saml_sp")
# IdPs read the SP metadata when an admin imports it again (Okta, Entra ID, Google) or on their own refresh
# schedule (Shibboleth, Keycloak, pysaml2: hours): a week leaves time for both.
DEFAULT_GRACE_BY_PURPOSE = {"oidc": DEFAULT_GRACE_SECONDS, "saml_sp": 7 * 86400}


@dataclass(frozen=True)
class KeyState:
    kid: str
    status: str  # as of now: next | active | retired
    create_time: datetime
    activate_time: datetime | None
    retire_time: datetime | None
    published_until: datetime | None  # None: as long as it is in service
    retained_until: datetime | None  # until then it verifies (oidc) or decrypts (saml_sp) what it was used for


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    signs_from: datetime
    replaced: list[str]
    replaced_published_until: datetime
    purpose: str = "oidc"


def _rows(conn: Connection, env_id: str, purpose: str) -> list[tuple[KeyRow, datetime]]:
    found = conn.execute(
        select(signing_keys)
        .where(signing_keys.c.environment_id == env_id, signing_keys.c.purpose == purpose)
        .order_by(signing_keys.c.create_time, signing_keys.c.id)
    ).all()
    return [
        (KeyRow(r.id, r.purpose, r.status, r.public_jwk, r.activate_time, r.retire_time), r.create_time) for r in found
    ]


def _status(row: KeyRow, current: KeyRow | None, now: datetime) -> str:
    if current is not None and row.kid == current.kid:
        return "active"
    if row.activate_time is not None and row.activate_time > now and row.status != "retired":
        return "next"
    return "retired"


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ApiError(400, f"unknown key purpose {purpose!r}", [FieldViolation("purpose", " or ".join(PURPOSES))])


def sync_statuses(rt: Runtime, conn: Connection, env_id: str, purpose: str = "oidc") -> list[KeyState]:
    """Bring the status column in line with the times, and describe every key of `purpose` of the environment."""
    _check_purpose(purpose)
    now = rt.clock.now()
    rows = _rows(conn, env_id, purpose)
    current = signer([r for r, _ in rows], purpose, now)
    retain = timedelta(seconds=DEFAULT_RETAIN_SECONDS)
    states: list[KeyState] = []
    for row, created in rows:
        status = _status(row, current, now)
        retire_time = row.retire_time
        if status == "retired" and retire_time is None:
            retire_time = now
        if status != row.status or retire_time != row.retire_time:
            conn.execute(
                update(signing_keys).where(signing_keys.c.id == row.kid).values(status=status, retire_time=retire_time)
            )
        until = retire_time + retain if retire_time is not None else None
        # A SAML SP key leaves the metadata when it stops signing; a JWKS key stays as long as its tokens live.
        published = until if purpose == "oidc" else retire_time
        states.append(KeyState(row.kid, status, created, row.activate_time, retire_time, published, until))
    rt.keyring.invalidate(env_id)
    return states


def rotate(
    rt: Runtime,
    conn: Connection,
    env_id: str,
    grace_seconds: int | None = None,
    purpose: str = "oidc",
) -> Rotation:
    _check_purpose(purpose)
    grace_seconds = DEFAULT_GRACE_BY_PURPOSE[purpose] if grace_seconds is None else grace_seconds
    if grace_seconds < MIN_GRACE_SECONDS:
        where = "/keys" if purpose == "oidc" else "the SP metadata"
        raise ApiError(
            400,
            f"the grace period must be at least {MIN_GRACE_SECONDS} seconds: verifiers may cache {where} for "
            f"{JWKS_MAX_AGE} s and instances re-read keys every {KEYRING_REFRESH} s",
            [FieldViolation("grace", f"at least {MIN_GRACE_SECONDS} seconds")],
        )
    states = sync_statuses(rt, conn, env_id, purpose)
    pending = [s for s in states if s.status == "next"]
    if pending:
        raise ApiError(
            409,
            f"a rotation is already pending: {pending[0].kid} signs from {pending[0].activate_time}; "
            "wait until then before rotating again",
        )
    now = rt.clock.now()
    signs_from = now + timedelta(seconds=grace_seconds)
    key = generate_rsa_key()
    kid = new_id("key")
    conn.execute(
        insert(signing_keys).values(
            id=kid,
            environment_id=env_id,
            purpose=purpose,
            algorithm="RS256",
            status="next",
            private_key=rt.sealer.seal(private_key_pem(key), context=f"signing_key:{kid}", conn=conn),
            public_jwk=public_jwk(key.public_key(), kid) if purpose == "oidc" else None,
            certificate_pem=_sp_certificate(conn, env_id, key) if purpose == "saml_sp" else None,
            create_time=now,
            activate_time=signs_from,
        )
    )
    replaced = [s.kid for s in states if s.status == "active"]
    if replaced:
        conn.execute(update(signing_keys).where(signing_keys.c.id.in_(replaced)).values(retire_time=signs_from))
    rt.keyring.invalidate(env_id)
    retained = signs_from + timedelta(seconds=DEFAULT_RETAIN_SECONDS)
    return Rotation(kid, signs_from, replaced, retained if purpose == "oidc" else signs_from, purpose)


def _sp_certificate(conn: Connection, env_id: str, key: RSAPrivateKey) -> str:
    """The self-signed certificate SP metadata carries: IdPs pin it, so its validity is not checked by them."""
    url = conn.execute(select(environments.c.url).where(environments.c.id == env_id)).scalar_one()
    return certificate_pem(self_signed_certificate(key, f"Entryway SP {url}"))


def key_states(rt: Runtime, conn: Connection, env_id: str, purpose: str = "oidc") -> list[KeyState]:
    return sync_statuses(rt, conn, env_id, purpose)
