"""The normalized user profile every connector returns, whatever the IdP's protocol."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Profile:
    subject: str  # the IdP's user id (SAML NameID, OIDC sub)
    email: str
    email_verified: bool = True
    given_name: str | None = None
    family_name: str | None = None
    name: str | None = None
    preferred_username: str | None = None
    groups: list[str] | None = None
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    raw_attributes: dict[str, Any] = field(default_factory=dict)
    session_index: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(**data)

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        parts = [p for p in (self.given_name, self.family_name) if p]
        return " ".join(parts) or None
