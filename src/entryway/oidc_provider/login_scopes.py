"""The scopes of an app login (OIDC Core §5.4). Scope values the provider does not know are ignored (§3.1.2.1)."""

from __future__ import annotations

import re

OPENID = "openid"
SUPPORTED_SCOPES: tuple[str, ...] = ("openid", "profile", "email")
DEFAULT_SCOPE = "openid profile email"
MAX_SCOPE_LENGTH = 512  # the stored column's size

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


def parse_scope(text: str) -> list[str] | None:
    """The scope tokens in request order without repeats, or None when `text` is not a valid scope string."""
    tokens: list[str] = []
    for token in text.split(" "):
        if not token:
            continue
        if not _SCOPE_TOKEN.match(token):
            return None
        if token not in tokens:
            tokens.append(token)
    return tokens
