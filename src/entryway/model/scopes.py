"""Management API scopes (CONTRACT §5): what a client-credentials token may do.

A client whose stored scopes are ["*"] (every environment's app client) holds every management scope, as
Scalekit's environment credentials do; API clients may be limited to a subset.
"""

from __future__ import annotations

ALL_SCOPES = "*"

# One read and one write scope per management resource.
MANAGEMENT_SCOPES: tuple[str, ...] = (
    "organizations:read",
    "organizations:write",
    "domains:read",
    "domains:write",
    "connections:read",
    "connections:write",
    "portal_links:read",
    "portal_links:write",
    "environment:read",
    "environment:write",
    "clients:read",
    "clients:write",
    "logs:read",
    "webhooks:read",
    "webhooks:write",
)


def client_scopes(stored: list[str]) -> list[str]:
    """The management scopes a client holds, in catalogue order ("*" stands for all of them)."""
    if ALL_SCOPES in stored:
        return list(MANAGEMENT_SCOPES)
    held = set(stored)
    return [s for s in MANAGEMENT_SCOPES if s in held]
