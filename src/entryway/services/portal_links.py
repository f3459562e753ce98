"""Portal links (CONTRACT §5): how a customer's IT admin reaches the admin portal of one organization.

- SHAREABLE: sent by email or chat; opens a portal session any number of times for 7 days, until revoked.
- EMBEDDABLE: fetched by the app's backend just before it frames the portal; opens once, within 1 minute,
  and the session it opens lives 6 hours.

A link is a random 256-bit token in the URL; only its SHA-256 is stored, so the location is shown once, at
creation. Opening a link checks it in this order — unknown (forged or mistyped), revoked, expired, already
used — and says which, so the admin knows whether to ask for a new one. Revoking a link ends every session
it opened.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from entryway.ids import new_id
from entryway.model.errors import FieldViolation, invalid, not_found
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.organizations import get_organization
from entryway.store.tables import portal_links
from entryway.web.sessions import SessionKind, WebSession, end_sessions_opened_by, hash_token, open_session

SHAREABLE_LIFETIME = timedelta(days=7)
EMBEDDABLE_LIFETIME = timedelta(minutes=1)
EMBEDDED_SESSION = timedelta(hours=6)
SHARED_SESSION = timedelta(hours=8)  # a working day; never past the link's own expiry
SESSION_IDLE = timedelta(hours=1)
LINK_PATH = "/portal/links/"


class LinkType(StrEnum):
    SHAREABLE = "SHAREABLE"
    EMBEDDABLE = "EMBEDDABLE"


@dataclass(frozen=True)
class PortalLink:
    id: str
    environment_id: str
    organization_id: str
    link_type: LinkType
    create_time: datetime
    expire_time: datetime
    used_time: datetime | None
    revoke_time: datetime | None
    created_by: str | None


def _from_row(row: object) -> PortalLink:
    r = row._mapping  # type: ignore[attr-defined]
    return PortalLink(
        r["id"],
        r["environment_id"],
        r["organization_id"],
        LinkType(r["kind"]),
        r["create_time"],
        r["expire_time"],
        r["used_time"],
        r["revoke_time"],
        r["created_by"],
    )


def parse_link_type(value: object) -> LinkType:
    try:
        return LinkType(str(value).upper())
    except ValueError:
        raise invalid([FieldViolation("link_type", "must be SHAREABLE or EMBEDDABLE")]) from None


def create_link(
    rt: Runtime, conn: Connection, env: Environment, org_id: str, link_type: LinkType, created_by: str | None
) -> tuple[PortalLink, str]:
    """A new link and its location (the only time the location can be known)."""
    get_organization(conn, env.id, org_id)
    now = rt.clock.now()
    token = secrets.token_urlsafe(32)
    lifetime = SHAREABLE_LIFETIME if link_type is LinkType.SHAREABLE else EMBEDDABLE_LIFETIME
    link = PortalLink(new_id("lnk"), env.id, org_id, link_type, now, now + lifetime, None, None, created_by)
    conn.execute(
        insert(portal_links).values(
            id=link.id,
            environment_id=env.id,
            organization_id=org_id,
            kind=link_type.value,
            token_hash=hash_token(token),
            create_time=now,
            expire_time=link.expire_time,
            used_time=None,
            revoke_time=None,
            created_by=created_by,
        )
    )
    return link, link_base(env) + token


def link_base(env: Environment) -> str:
    """Where every new link of `env` points (the production checklist compares it with the custom domain).

    public_url, not the URL this call came in on: links follow a verified custom domain (docs/custom-domains.md).
    """
    return env.public_url + LINK_PATH


def list_links(
    rt: Runtime, conn: Connection, env_id: str, org_id: str, *, after_id: str | None = None, limit: int | None = None
) -> list[PortalLink]:
    """The organization's links that can still open a session (not revoked, expired or used), in ID order."""
    get_organization(conn, env_id, org_id)
    query = select(portal_links).where(*_usable(rt, env_id, org_id))
    if after_id is not None:
        query = query.where(portal_links.c.id > after_id)
    query = query.order_by(portal_links.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_from_row(r) for r in conn.execute(query)]


def count_links(rt: Runtime, conn: Connection, env_id: str, org_id: str) -> int:
    query = select(func.count()).select_from(portal_links).where(*_usable(rt, env_id, org_id))
    return int(conn.execute(query).scalar_one())


def _usable(rt: Runtime, env_id: str, org_id: str) -> list[ColumnElement[bool]]:
    return [
        portal_links.c.environment_id == env_id,
        portal_links.c.organization_id == org_id,
        portal_links.c.revoke_time.is_(None),
        portal_links.c.used_time.is_(None),
        portal_links.c.expire_time > rt.clock.now(),
    ]


def revoke_link(rt: Runtime, conn: Connection, env_id: str, org_id: str, link_id: str) -> PortalLink:
    """Revoke a link and end the sessions it opened. Revoking a revoked link is a no-op, not an error."""
    get_organization(conn, env_id, org_id)
    row = conn.execute(
        select(portal_links).where(
            portal_links.c.id == link_id,
            portal_links.c.environment_id == env_id,
            portal_links.c.organization_id == org_id,
        )
    ).first()
    if row is None:
        raise not_found("portal link", link_id)
    link = _from_row(row)
    if link.revoke_time is None:
        now = rt.clock.now()
        conn.execute(update(portal_links).where(portal_links.c.id == link_id).values(revoke_time=now))
        link = PortalLink(**{**link.__dict__, "revoke_time": now})
    end_sessions_opened_by(rt, conn, link_id)
    return link


class LinkRefused(Exception):
    """The link cannot open a session; `code` is a page error code (model.errors.PAGE_ERRORS)."""

    def __init__(self, code: str, link: PortalLink | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.link = link


def open_link(
    rt: Runtime, conn: Connection, env: Environment, token: str, client_ip: str | None
) -> tuple[PortalLink, WebSession, str]:
    """Open a portal session with a link: (link, session, session token), or LinkRefused saying why not."""
    if not token or len(token) > 128:
        raise LinkRefused("portal_link_invalid")
    row = conn.execute(
        select(portal_links).where(
            portal_links.c.token_hash == hash_token(token), portal_links.c.environment_id == env.id
        )
    ).first()
    if row is None:
        raise LinkRefused("portal_link_invalid")
    link = _from_row(row)
    now = rt.clock.now()
    if link.revoke_time is not None:
        raise LinkRefused("portal_link_revoked", link)
    if now >= link.expire_time:
        raise LinkRefused("portal_link_expired", link)
    if link.link_type is LinkType.EMBEDDABLE:
        # The conditional update makes the link single use even when two requests race with it.
        done = conn.execute(
            update(portal_links)
            .where(portal_links.c.id == link.id, portal_links.c.used_time.is_(None))
            .values(used_time=now)
        )
        if done.rowcount != 1:
            raise LinkRefused("portal_link_used", link)
        lifetime = EMBEDDED_SESSION
    else:
        lifetime = min(SHARED_SESSION, link.expire_time - now)
    session, session_token = open_session(
        rt,
        conn,
        kind=SessionKind.PORTAL,
        environment_id=env.id,
        subject=link.organization_id,
        lifetime=lifetime,
        idle=min(SESSION_IDLE, lifetime),
        opened_by=link.id,
        client_ip=client_ip,
    )
    return link, session, session_token
