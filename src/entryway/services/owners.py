"""Dashboard owners: the developers who may sign in to an environment's dashboard.

Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's second recommended parameter set) and
never stored or logged in any other form. Signing in with an unknown email costs the same hash as a wrong
password, so response time does not tell which emails are owners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from entryway.ids import new_id
from entryway.model.errors import FieldViolation, conflict, invalid, not_found
from entryway.runtime import Runtime
from entryway.store.tables import dashboard_owners

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class Owner:
    id: str
    environment_id: str
    email: str
    create_time: datetime
    last_sign_in_time: datetime | None


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hasher().hash("decoy password for unknown emails")


def _owner(row: object) -> Owner:
    r = row._mapping  # type: ignore[attr-defined]
    return Owner(r["id"], r["environment_id"], r["email"], r["create_time"], r["last_sign_in_time"])


def normalize_email(text: str) -> str:
    return text.strip().lower()


def password_problems(password: str) -> list[str]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"must be at least {MIN_PASSWORD_LENGTH} characters"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"must be at most {MAX_PASSWORD_LENGTH} characters"]
    return []


def add_owner(rt: Runtime, conn: Connection, env_id: str, email: str, password: str) -> Owner:
    address = normalize_email(email)
    problems: list[FieldViolation] = []
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or len(address) > 320 or any(c.isspace() for c in address):
        problems.append(FieldViolation("email", "must be an email address"))
    problems += [FieldViolation("password", p) for p in password_problems(password)]
    if problems:
        raise invalid(problems)
    existing = conn.execute(
        select(dashboard_owners.c.id).where(
            dashboard_owners.c.environment_id == env_id, dashboard_owners.c.email == address
        )
    ).first()
    if existing is not None:
        raise conflict(f"{address} is already an owner of {env_id}", "email")
    owner_id = new_id("own")
    now = rt.clock.now()
    conn.execute(
        insert(dashboard_owners).values(
            id=owner_id,
            environment_id=env_id,
            email=address,
            password_hash=hasher().hash(password),
            create_time=now,
            last_sign_in_time=None,
        )
    )
    return Owner(owner_id, env_id, address, now, None)


def list_owners(conn: Connection, env_id: str) -> list[Owner]:
    rows = conn.execute(
        select(dashboard_owners).where(dashboard_owners.c.environment_id == env_id).order_by(dashboard_owners.c.email)
    )
    return [_owner(r) for r in rows]


def find_owner(conn: Connection, env_id: str, owner_id: str) -> Owner | None:
    row = conn.execute(
        select(dashboard_owners).where(dashboard_owners.c.environment_id == env_id, dashboard_owners.c.id == owner_id)
    ).first()
    return _owner(row) if row is not None else None


def remove_owner(conn: Connection, env_id: str, email: str) -> None:
    done = conn.execute(
        delete(dashboard_owners).where(
            dashboard_owners.c.environment_id == env_id, dashboard_owners.c.email == normalize_email(email)
        )
    )
    if not done.rowcount:
        raise not_found("owner", email)


def set_password(rt: Runtime, conn: Connection, env_id: str, email: str, password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise invalid([FieldViolation("password", p) for p in problems])
    done = conn.execute(
        update(dashboard_owners)
        .where(dashboard_owners.c.environment_id == env_id, dashboard_owners.c.email == normalize_email(email))
        .values(password_hash=hasher().hash(password))
    )
    if not done.rowcount:
        raise not_found("owner", email)


def authenticate(rt: Runtime, env_id: str, email: str, password: str) -> Owner | None:
    """The owner whose email and password these are, or None. Records the sign-in time."""
    address = normalize_email(email)
    if len(password) > MAX_PASSWORD_LENGTH or len(address) > 320:
        return None
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(dashboard_owners).where(
                dashboard_owners.c.environment_id == env_id, dashboard_owners.c.email == address
            )
        ).first()
    stored = row.password_hash if row is not None else _decoy_hash()
    try:
        hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    with rt.engine.begin() as conn:
        values: dict[str, object] = {"last_sign_in_time": rt.clock.now()}
        if hasher().check_needs_rehash(stored):
            values["password_hash"] = hasher().hash(password)
        conn.execute(update(dashboard_owners).where(dashboard_owners.c.id == row.id).values(**values))
    return _owner(row)
