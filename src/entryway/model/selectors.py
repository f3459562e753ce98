"""Connection selector precedence for /oauth/authorize (CONTRACT §3.1).

`connection_id` > `organization_id` > `domain` / `domain_hint` > `login_hint`. A more specific selector
that is present always wins, and an invalid one fails rather than falling through to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from entryway.model.errors import LoginError


class SelectorKind(StrEnum):
    CONNECTION = "connection_id"
    ORGANIZATION = "organization_id"
    DOMAIN = "domain"
    LOGIN_HINT = "login_hint"


@dataclass(frozen=True)
class Selector:
    kind: SelectorKind
    value: str  # for LOGIN_HINT: the email's domain part, lower-cased
    login_hint: str | None = None


def email_domain(email: str) -> str | None:
    local, sep, domain = email.strip().rpartition("@")
    if not sep or not local or not domain or "." not in domain or any(c.isspace() for c in email.strip()):
        return None
    return domain.lower().rstrip(".")


def choose_selector(
    *,
    connection_id: str | None,
    organization_id: str | None,
    domain: str | None,
    domain_hint: str | None,
    login_hint: str | None,
) -> Selector:
    hint = login_hint.strip() if login_hint else None
    if connection_id:
        return Selector(SelectorKind.CONNECTION, connection_id, hint)
    if organization_id:
        return Selector(SelectorKind.ORGANIZATION, organization_id, hint)
    chosen_domain = domain or domain_hint
    if chosen_domain:
        return Selector(SelectorKind.DOMAIN, chosen_domain.strip().lower().rstrip("."), hint)
    if hint:
        hint_domain = email_domain(hint)
        if hint_domain is None:
            raise LoginError.wanted_got(
                "invalid_user_domain",
                "login_hint must be an email address (name@company.com)",
                "an email address",
                "a value without a domain",
            )
        return Selector(SelectorKind.LOGIN_HINT, hint_domain, hint)
    raise LoginError(
        "invalid_connection_selector",
        "Say which organization's IdP to use: pass connection_id, organization_id, domain or login_hint",
        {"wanted": "one of connection_id, organization_id, domain, domain_hint, login_hint", "got": "none"},
    )
