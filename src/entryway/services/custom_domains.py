"""Custom domains (production environments): serve an environment on the customer's own name, e.g. sso.acme.com.

1. `set_custom_domain`: the domain is recorded, PENDING, with the CNAME record to publish:
   `sso.acme.com CNAME <target>`, the target being ENTRYWAY_CUSTOM_DOMAIN_TARGET or the environment's own host.
2. `verify_custom_domain` asks DNS (the configurable resolver of services/domains.py). A CNAME to the target
   verifies it; so do A/AAAA records equal to the target's (an apex "ALIAS"/flattened CNAME). A CNAME elsewhere,
   no record, or a lookup failure each give a message that says what to change.
3. Once VERIFIED, requests with that Host route to the environment (services/environments.py), pages and tokens
   reached there carry the custom domain's https URL as their issuer, and `public_url` — what portal links, new
   connections and the API's ENTRYWAY_ENV_URL advice use — is the custom domain. The environment's own URL keeps
   serving too: an app moves at its own pace, and existing connections keep the SP entity ID, ACS URL and
   redirect URI their IdPs were given (CONTRACT §4).

TLS for the custom domain terminates at the operator's reverse proxy (docs/custom-domains.md).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Connection, select, update

from entryway.config import Settings
from entryway.model.errors import ApiError, FieldViolation, conflict, invalid
from entryway.runtime import Runtime
from entryway.services.domains import DnsCheck, dns_resolver, normalize_domain
from entryway.services.environments import Environment, get_environment
from entryway.store.tables import connections, environments

if TYPE_CHECKING:
    import dns.resolver  # imported where a lookup runs: see services/domains.py

_MAX_SHOWN = 5


def cname_target(settings: Settings, env: Environment) -> str:
    """The host name the customer's CNAME must point at."""
    if settings.custom_domain_target:
        return settings.custom_domain_target
    return (urlsplit(env.base_url or env.url).hostname or "").lower()


def set_custom_domain(rt: Runtime, conn: Connection, env: Environment, domain: object) -> Environment:
    """Record the domain (PENDING). Setting the current one again changes nothing."""
    if env.is_development:
        raise ApiError(
            412,
            "Custom domains are for production environments; a development environment keeps its own URL",
            [FieldViolation("domain", "the environment is a development environment")],
        )
    name, problems = normalize_domain(domain if isinstance(domain, str) else "")
    if problems:
        raise invalid([FieldViolation("domain", p) for p in problems])
    if name == env.custom_domain:
        return env
    target = cname_target(rt.settings, env)
    if name == target or name == (urlsplit(env.base_url).hostname or ""):
        raise invalid([FieldViolation("domain", f"{name} is this environment's own host, not a custom domain")])
    if env.custom_domain and env.custom_domain_verified:
        raise conflict(
            f"{env.custom_domain} is this environment's verified custom domain: remove it first "
            "(DELETE /api/v1/environment/custom-domain); apps using it must move first",
            "domain",
        )
    taken = conn.execute(
        select(environments.c.id).where(
            (environments.c.id != env.id) & ((environments.c.custom_domain == name) | (environments.c.host == name))
        )
    ).first()
    if taken is not None:
        raise conflict(f"{name} is already used by another environment", "domain")
    conn.execute(
        update(environments)
        .where(environments.c.id == env.id)
        .values(custom_domain=name, custom_domain_verified=False, update_time=rt.clock.now())
    )
    return get_environment(conn, env.id)


def _names(answer: dns.resolver.Answer) -> list[str]:
    return [rdata.target.to_text(omit_final_dot=True).lower() for rdata in answer]


def _addresses(resolver: dns.resolver.Resolver, name: str) -> set[str]:
    import dns.exception

    found: set[str] = set()
    for kind in ("A", "AAAA"):
        try:
            answer = resolver.resolve(name, kind, raise_on_no_answer=False)
        except dns.exception.DNSException:
            continue
        for rdata in answer:
            try:
                found.add(str(ipaddress.ip_address(rdata.address)))
            except (AttributeError, ValueError):
                continue
    return found


def check_cname(settings: Settings, domain: str, target: str) -> DnsCheck:
    """Does `domain` lead to `target`? The message says what to change when it does not."""
    import dns.exception
    import dns.resolver

    resolver = dns_resolver(settings)
    wanted = f"{domain} CNAME {target}"
    try:
        answer = resolver.resolve(domain, "CNAME", raise_on_no_answer=False)
        aliases = _names(answer)
    except dns.resolver.NXDOMAIN:
        return DnsCheck(False, domain, target, [], f"{domain} does not exist in DNS: add the record {wanted}")
    except dns.resolver.NoNameservers:
        return DnsCheck(False, domain, target, [], f"no DNS server answered for {domain}; retry, or check its zone")
    except dns.exception.Timeout:
        return DnsCheck(False, domain, target, [], f"the DNS lookup of {domain} timed out; retry shortly")
    except dns.exception.DNSException as exc:
        return DnsCheck(False, domain, target, [], f"the DNS lookup of {domain} failed ({type(exc).__name__}); retry")
    if target in aliases:
        return DnsCheck(True, domain, target, aliases, f"{domain} is a CNAME for {target}")
    if aliases:
        return DnsCheck(
            False,
            domain,
            target,
            aliases[:_MAX_SHOWN],
            f"{domain} is a CNAME for {', '.join(aliases[:_MAX_SHOWN])}, not for {target}: "
            f"change the record's value to {target} (DNS changes can take up to the record's TTL to be seen)",
        )
    # No CNAME: an apex name cannot have one, and DNS hosts "flatten" an ALIAS into the target's addresses.
    own = _addresses(resolver, domain)
    theirs = _addresses(resolver, target)
    if own and theirs and own <= theirs:
        return DnsCheck(True, domain, target, sorted(own), f"{domain} resolves to {target}'s addresses (ALIAS)")
    if own:
        return DnsCheck(
            False,
            domain,
            target,
            sorted(own)[:_MAX_SHOWN],
            f"{domain} has no CNAME record and its addresses ({', '.join(sorted(own)[:_MAX_SHOWN])}) are not "
            f"{target}'s: replace its A/AAAA records with the record {wanted}",
        )
    return DnsCheck(False, domain, target, [], f"{domain} has no CNAME record: add the record {wanted}")


def verify_custom_domain(rt: Runtime, env_id: str) -> tuple[Environment, DnsCheck]:
    """Look the domain up (outside any transaction) and record a success. A domain once verified stays so when
    a later check fails: serving is not switched off by a passing DNS fault; remove the domain to stop it."""
    with rt.engine.connect() as conn:
        env = get_environment(conn, env_id)
    if not env.custom_domain:
        raise ApiError(
            412,
            "This environment has no custom domain to verify: set one first (PUT /api/v1/environment/custom-domain)",
        )
    check = check_cname(rt.settings, env.custom_domain, cname_target(rt.settings, env))
    if check.verified and not env.custom_domain_verified:
        with rt.engine.begin() as conn:
            conn.execute(
                update(environments)
                .where(environments.c.id == env.id, environments.c.custom_domain == env.custom_domain)
                .values(custom_domain_verified=True, update_time=rt.clock.now())
            )
            env = get_environment(conn, env_id)
    return env, check


def connections_on(conn: Connection, env_id: str, base_url: str) -> list[str]:
    """IDs of connections whose IdP-facing URLs (ACS URL, redirect URI) are on `base_url`."""
    prefix = base_url.rstrip("/") + "/"
    found = []
    rows = conn.execute(
        select(connections.c.id, connections.c.saml_config, connections.c.oidc_config).where(
            connections.c.environment_id == env_id
        )
    )
    for row in rows:
        urls = [(row.saml_config or {}).get("sp_assertion_url"), (row.oidc_config or {}).get("redirect_uri")]
        if any(isinstance(u, str) and u.startswith(prefix) for u in urls):
            found.append(row.id)
    return found


def remove_custom_domain(rt: Runtime, conn: Connection, env: Environment) -> Environment:
    """Stop serving the custom domain. Refused while connections were created on it: their IdPs post to it."""
    if not env.custom_domain:
        return env
    if env.custom_url:
        stranded = connections_on(conn, env.id, env.custom_url)
        if stranded:
            shown = ", ".join(stranded[:_MAX_SHOWN]) + (" …" if len(stranded) > _MAX_SHOWN else "")
            raise conflict(
                f"{len(stranded)} connection(s) were created on {env.custom_domain} and their IdPs send users "
                f"there ({shown}); delete them, or keep the domain",
                "domain",
            )
    conn.execute(
        update(environments)
        .where(environments.c.id == env.id)
        .values(custom_domain=None, custom_domain_verified=False, update_time=rt.clock.now())
    )
    return get_environment(conn, env.id)


@dataclass(frozen=True)
class EnvFileChange:
    name: str
    value: str
    previous_value: str


def env_file_changes(env: Environment, *, previous_url: str | None = None) -> list[EnvFileChange]:
    """What the app must change in its .env to use `env.public_url` (only ENTRYWAY_ENV_URL ever changes)."""
    was = previous_url or env.base_url or env.url
    if env.public_url == was:
        return []
    return [EnvFileChange("ENTRYWAY_ENV_URL", env.public_url, was)]


def may_have_certificate(conn: Connection, name: str) -> bool:
    """Whether the reverse proxy may obtain a TLS certificate for `name` on demand (Caddy's `on_demand_tls ask`):
    an environment's own host, or a custom domain an environment has set, verified or still pending. Pending too,
    because the name needs its certificate before anyone can use it (docs/custom-domains.md, steps 3 and 4); a
    certificate authority issues one only once the name's DNS already leads to the proxy. Any other name is
    refused, so a stranger's SNI cannot make the proxy spend the operator's certificate-authority rate limits."""
    stored, problems = normalize_domain(name)
    if problems:
        return False
    row = conn.execute(
        select(environments.c.id)
        .where(
            (environments.c.custom_domain == stored)
            | (environments.c.host == stored)
            | (environments.c.host == f"{stored}:443")
        )
        .limit(1)
    ).first()
    return row is not None
