"""The private-address policy of every outbound fetch (DESIGN §4): metadata URLs, webhook endpoints.

A URL an administrator or developer types must not become a way to reach the broker's own network (cloud
metadata services, databases, admin ports): every address its host name resolves to must be a public one,
unless the operator set ENTRYWAY_ALLOW_PRIVATE_FETCH. The check runs before each connection is made, so a DNS
answer that changes between the check and the connect (DNS rebinding) is not excluded.
"""

from __future__ import annotations

import ipaddress
import socket


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
