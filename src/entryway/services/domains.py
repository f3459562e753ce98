"""Organization domains: they route logins by email domain, and are proven by a DNS TXT record."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import idna
from sqlalchemy import Connection, delete, func, insert, select, update

from entryway.config import Settings
from entryway.events import payloads
from entryway.events.outbox import emit_event
from entryway.ids import new_id
from entryway.model.connections import Domain, DomainType
from entryway.model.errors import FieldViolation, conflict, invalid, not_found
from entryway.runtime import Runtime
from entryway.services.organizations import get_organization
from entryway.store.tables import domains

if TYPE_CHECKING:
    import dns.resolver

# dnspython is imported by the functions that look a name up (here, custom_domains.py, the checklist, and
# outbound.py with ENTRYWAY_FETCH_NAMESERVER), not with the module: it adds about 3 MB to every server worker,
# and a worker needs it only when an administrator verifies a domain, never for a login.

VERIFICATION_LABEL = "_entryway-verification"
VERIFICATION_PREFIX = "entryway-verification="
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_TIMEOUT_SECONDS = 3.0
_MAX_TXT_SHOWN = 5


def domain_from_row(row: object) -> Domain:
    r = row._mapping  # type: ignore[attr-defined]
    return Domain(
        r["id"],
        r["environment_id"],
        r["organization_id"],
        r["domain"],
        DomainType(r["domain_type"]),
        r["verification_status"],
        r["verification_token"],
        r["create_time"],
        r["update_time"],
    )


def normalize_domain(text: str) -> tuple[str, list[str]]:
    """The domain in its stored form (lower-case ASCII, IDNA A-labels) and every rule it breaks."""
    name = text.strip().lower().rstrip(".")
    if not name:
        return name, ["a domain name is required"]
    if "*" in name:
        return name, ["wildcards are not allowed: register the domain itself (acme.com)"]
    if any(ch in name for ch in "/:@ ") or "://" in text:
        return name, ["give the bare domain name (acme.com), not a URL or email address"]
    try:
        ipaddress.ip_address(name.strip("[]"))
        return name, ["an IP address is not a domain name"]
    except ValueError:
        pass
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            return name, [f"not a valid internationalized domain name: {exc}"]
    labels = name.split(".")
    problems: list[str] = []
    if len(name) > 253:
        problems.append("at most 253 characters")
    if len(labels) < 2:
        problems.append("a domain needs at least two labels (acme.com)")
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad:
        problems.append(
            f"label {bad[0]!r} is not valid: 1-63 letters, digits and hyphens, not starting or ending with a hyphen"
        )
    elif labels[-1].isdigit():
        problems.append("the top-level label cannot be all digits")
    return name, problems


def lookup_form(domain: str) -> str:
    """The stored form of a domain typed by a user or taken from an email (cheap for ASCII, the common case)."""
    name = domain.strip().lower().rstrip(".")
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        return name


def find_by_domain(conn: Connection, env_id: str, domain: str) -> Domain | None:
    row = conn.execute(
        select(domains).where(domains.c.environment_id == env_id, domains.c.domain == lookup_form(domain))
    ).first()
    return domain_from_row(row) if row is not None else None


def get_domain(conn: Connection, env_id: str, org_id: str, domain_id: str) -> Domain:
    row = conn.execute(
        select(domains).where(
            domains.c.id == domain_id, domains.c.environment_id == env_id, domains.c.organization_id == org_id
        )
    ).first()
    if row is None:
        raise not_found("domain", domain_id)
    return domain_from_row(row)


def list_domains(
    conn: Connection, env_id: str, org_id: str, *, after_id: str | None = None, limit: int | None = None
) -> list[Domain]:
    query = select(domains).where(domains.c.environment_id == env_id, domains.c.organization_id == org_id)
    if after_id is not None:
        query = query.where(domains.c.id > after_id)
    query = query.order_by(domains.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [domain_from_row(r) for r in conn.execute(query)]


def count_domains(conn: Connection, env_id: str, org_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(domains)
            .where(domains.c.environment_id == env_id, domains.c.organization_id == org_id)
        ).scalar_one()
    )


def create_domain(
    rt: Runtime, conn: Connection, env_id: str, org_id: str, *, domain: str, domain_type: DomainType | str
) -> Domain:
    get_organization(conn, env_id, org_id)
    name, problems = normalize_domain(domain)
    violations = [FieldViolation("domain", p) for p in problems]
    try:
        kind = DomainType(domain_type)
    except ValueError:
        violations.append(FieldViolation("domain_type", "must be ORGANIZATION_DOMAIN or ALLOWED_EMAIL_DOMAIN"))
    if violations:
        raise invalid(violations)
    if conn.execute(select(domains.c.id).where(domains.c.environment_id == env_id, domains.c.domain == name)).first():
        raise conflict(f"{name} is already registered to an organization of this environment", "domain")
    now = rt.clock.now()
    domain_id = new_id("dom")
    conn.execute(
        insert(domains).values(
            id=domain_id,
            environment_id=env_id,
            organization_id=org_id,
            domain=name,
            domain_type=kind.value,
            verification_status="PENDING",
            verification_token=secrets.token_urlsafe(24),
            create_time=now,
            update_time=now,
        )
    )
    created = get_domain(conn, env_id, org_id, domain_id)
    _emit(conn, "organization.domain_created", created, now)
    return created


def delete_domain(conn: Connection, env_id: str, org_id: str, domain_id: str) -> None:
    found = get_domain(conn, env_id, org_id, domain_id)
    conn.execute(delete(domains).where(domains.c.id == found.id))
    _emit(conn, "organization.domain_deleted", found, None)


def _emit(conn: Connection, event_type: str, dom: Domain, now: datetime | None) -> None:
    emit_event(
        conn,
        event_type,
        environment_id=dom.environment_id,
        organization_id=dom.organization_id,
        data=payloads.domain(dom),
        occurred_at=now,
    )


# --- DNS verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsCheck:
    """What the DNS said, for a person fixing the record: where we looked, what we wanted, what we found."""

    verified: bool
    record_name: str
    expected_value: str
    found_values: list[str]
    message: str


def verification_record(domain: Domain) -> tuple[str, str]:
    """The TXT record (name, value) that proves control of the domain."""
    return f"{VERIFICATION_LABEL}.{domain.domain}", f"{VERIFICATION_PREFIX}{domain.verification_token}"


def dns_resolver(settings: Settings) -> dns.resolver.Resolver:
    """What every DNS check asks: ENTRYWAY_DNS_NAMESERVER (tests run a real server on loopback), else the system."""
    import dns.resolver

    if settings.dns_nameserver:
        host, port = parse_nameserver(settings.dns_nameserver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = _DNS_TIMEOUT_SECONDS
    resolver.lifetime = _DNS_TIMEOUT_SECONDS
    return resolver


def parse_nameserver(text: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or a bare host (port 53)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, "53"
    return host, int(port)


def check_dns(settings: Settings, domain: Domain) -> DnsCheck:
    import dns.exception
    import dns.resolver

    name, expected = verification_record(domain)
    try:
        answer = dns_resolver(settings).resolve(name, "TXT", raise_on_no_answer=False)
        found = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
        error = None
    except dns.resolver.NXDOMAIN:
        found, error = [], f"{name} does not exist in DNS"
    except dns.resolver.NoNameservers:
        found, error = [], f"no DNS server answered for {name}"
    except dns.exception.Timeout:
        found, error = [], f"the DNS lookup of {name} timed out"
    except dns.exception.DNSException as exc:
        found, error = [], f"the DNS lookup of {name} failed: {type(exc).__name__}"
    if expected in found:
        return DnsCheck(True, name, expected, found[:_MAX_TXT_SHOWN], f"{name} has the expected TXT record")
    if error is None:
        error = (
            f"{name} has no TXT record {expected!r}"
            if found
            else f"{name} has no TXT records: add one with the value {expected!r}"
        )
    return DnsCheck(False, name, expected, found[:_MAX_TXT_SHOWN], error)


def verify_domain(rt: Runtime, env_id: str, org_id: str, domain_id: str) -> tuple[Domain, DnsCheck]:
    """Look for the TXT record and record the outcome. The DNS query runs outside any database transaction.

    A domain once verified stays verified when a later check fails (the record is often removed afterwards).
    """
    with rt.engine.connect() as conn:
        found = get_domain(conn, env_id, org_id, domain_id)
    check = check_dns(rt.settings, found)
    status = "VERIFIED" if check.verified else ("VERIFIED" if found.verification_status == "VERIFIED" else "FAILED")
    if status == found.verification_status:
        return found, check
    with rt.engine.begin() as conn:
        now = rt.clock.now()
        done = conn.execute(
            update(domains).where(domains.c.id == found.id).values(verification_status=status, update_time=now)
        )
        if done.rowcount != 1:
            raise not_found("domain", domain_id)
        changed = replace(found, verification_status=status, update_time=now)
        outcome = "success" if status == "VERIFIED" else "failed"
        _emit(conn, f"organization.domain_dns_verification_{outcome}", changed, now)
    return changed, check
