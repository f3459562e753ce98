"""The private-address policy of every outbound fetch (DESIGN §4): metadata URLs, webhook endpoints.

A URL an administrator or developer types must not become a way to reach the broker's own network (cloud
metadata services, databases, admin ports): every address its host name resolves to must be a public one,
unless the operator set ENTRYWAY_ALLOW_PRIVATE_FETCH (all addresses) or listed the private networks it may
reach (ENTRYWAY_ALLOW_PRIVATE_FETCH=10.1.0.0/16,…).

`address_problem` checks a name before something else connects to it (a DNS answer that changes in between is
not excluded); `pinned_client` closes that gap: it connects to the very addresses it checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from entryway.config import Settings


def address_problem(host: str, port: int) -> str | None:
    """Why `host` may not be contacted (it does not resolve, or resolves to a non-public address), or None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"the host name {host!r} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return (
                f"{host!r} resolves to {address}, a private, loopback or otherwise non-public address "
                "(the operator can allow these with ENTRYWAY_ALLOW_PRIVATE_FETCH)"
            )
    return None


# --- pinned connections -------------------------------------------------------------------------------------
#
# A check followed by a connection that resolves the name again leaves a window: a DNS server answering a public
# address to the check and a private one to the connect (DNS rebinding) reaches the private one. Outbound fetches
# of IdP documents therefore resolve once, check every address of that answer, and connect to a checked address;
# TLS still verifies the certificate for the host name (and sends it as SNI), and the Host header is unchanged.

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def nameserver_resolver(nameserver: str) -> Resolver:
    """Resolve through one DNS server ("host:port"), as ENTRYWAY_FETCH_NAMESERVER asks."""
    import dns.exception  # only with that setting: see services/domains.py on importing dnspython
    import dns.resolver

    host, _, port = nameserver.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host.strip("[]")]
    resolver.port = int(port)
    resolver.lifetime = 3.0

    def resolve(name: str, _port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(name))]
        except ValueError:
            pass
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                found.extend(str(r) for r in resolver.resolve(name, rdtype, search=False))
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException as exc:
                raise OSError(f"DNS lookup failed: {type(exc).__name__}") from exc
        if not found:
            raise OSError(f"{name} has no address")
        return found

    return resolve


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses outbound fetches may connect to, and how host names are resolved."""

    allow_private: bool = False  # every address (ENTRYWAY_ALLOW_PRIVATE_FETCH=1)
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # or only these
    resolver: Resolver = system_resolver

    def permits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if self.allow_private:
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast


@dataclass
class OutboundRefused(Exception):
    """The host does not resolve, or resolves to an address the policy refuses; nothing was sent."""

    message: str
    diagnosis: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


def checked_addresses(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Resolve `host` once; every address of the answer must be permitted (a mixed answer is refused)."""
    try:
        found = policy.resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(
            f"The host name {host!r} could not be resolved",
            {"wanted": "a resolvable host name", "got": host},
        ) from exc
    for text in found:
        address = ipaddress.ip_address(text)
        if not policy.permits(address):
            raise OutboundRefused(
                f"{host!r} resolves to {address}, a non-public address (private, loopback or link-local), which "
                "Entryway does not contact: the operator can allow private addresses with ENTRYWAY_ALLOW_PRIVATE_FETCH",
                {"wanted": "a public address", "got": str(address), "host": host},
            )
    return found


class _PinnedBackend(httpcore.SyncBackend):
    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in checked_addresses(host, port, self.policy):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure


class PinnedTransport(httpx.HTTPTransport):
    """An httpx transport whose connections go to the addresses the policy checked (no second lookup)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx builds its httpcore pool without a way to pass a network backend; this replaces it with one that
        # does (same TLS settings: certificate verified against the host name, which is also the SNI).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=_PinnedBackend(policy)
        )


def pinned_client(policy: OutboundPolicy, timeout: httpx.Timeout | float) -> httpx.Client:
    return httpx.Client(transport=PinnedTransport(policy), timeout=timeout, follow_redirects=False, trust_env=False)


def policy_for(settings: Settings) -> OutboundPolicy:
    resolver = nameserver_resolver(settings.fetch_nameserver) if settings.fetch_nameserver else system_resolver
    networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.private_fetch_networks)
    return OutboundPolicy(settings.allow_private_fetch, networks, resolver)
