"""Checklist rules on the redirect URIs: valid under production rules, on origins that resolve."""

from __future__ import annotations

from urllib.parse import urlsplit

from entryway.checklist.findings import Finding, Inputs, failed, passed, warned
from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.model.redirect_uris import check_redirect_uri
from entryway.services.domains import parse_nameserver
from entryway.services.environments import list_redirect_uris


def redirect_uris(i: Inputs) -> Finding:
    title = "Redirect URIs"
    rule = "redirect_uris"
    registered = list_redirect_uris(i.conn, i.env.id)
    if not any(r.kind is RedirectKind.CALLBACK for r in registered):
        return failed(
            rule, title, "no callback URL is registered", "Add the app's callback URL (dashboard → Redirects)"
        )
    broken = []
    for r in registered:
        problems = check_redirect_uri(r.uri, EnvironmentType.PRODUCTION)
        if problems:
            broken.append(f"{r.uri} ({r.kind.value}): {problems[0]}")
    if broken:
        return failed(
            rule,
            title,
            "not allowed in production: " + "; ".join(broken),
            "Replace them with https URLs on the app's public host (no localhost, no wildcard, no query)",
        )
    hosts = sorted({h for r in registered if (h := _web_host(r.uri))})
    unresolved = [h for h in hosts if not _resolves(i, h)]
    if unresolved:
        return warned(
            rule,
            title,
            "these hosts do not resolve in DNS: " + ", ".join(unresolved),
            "Check the host names for typos, or publish their DNS records before going live",
        )
    return passed(rule, title, f"{len(registered)} URI(s), all valid under production rules and resolvable")


def _web_host(uri: str) -> str | None:
    parts = urlsplit(uri)
    return parts.hostname if parts.scheme in ("http", "https") else None  # custom app schemes have no host


def _resolves(i: Inputs, host: str) -> bool:
    import dns.exception  # see services/domains.py on importing dnspython
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=i.rt.settings.dns_nameserver is None)
    if i.rt.settings.dns_nameserver is not None:
        address, port = parse_nameserver(i.rt.settings.dns_nameserver)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = 3.0
    for kind in ("A", "AAAA"):
        try:
            resolver.resolve(host, kind)
            return True
        except (dns.exception.DNSException, OSError):
            continue
    return False


def initiate_login_url(i: Inputs) -> Finding:
    title = "Initiate-login URL"
    found = list_redirect_uris(i.conn, i.env.id, RedirectKind.INITIATE_LOGIN)
    if found:
        return passed("initiate_login_url", title, f"IdP-initiated logins land on {found[0].uri}")
    return warned(
        "initiate_login_url",
        title,
        "no initiate-login URL: IdP-initiated logins fall back to the default callback URL, which must then "
        "handle ?idp_initiated_login=",
        "Set the app route that starts a login from the idp_initiated_login token (dashboard → Redirects, "
        "or `entryway initiate-login set URL`)",
    )
