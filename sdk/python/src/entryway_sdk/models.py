"""Typed results: the signed-in user, token exchanges, IdP-initiated login claims, and management resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from entryway_sdk.errors import TransportError

T = TypeVar("T")

_STANDARD_CLAIMS = frozenset(
    [
        "iss",
        "aud",
        "azp",
        "sub",
        "amr",
        "oid",
        "sid",
        "iat",
        "exp",
        "nbf",
        "nonce",
        "at_hash",
        "c_hash",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "groups",
        "identities",
        "auth_time",
        "jti",
    ]
)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Identity:
    connection_id: str
    organization_id: str
    connection_type: str
    provider_name: str
    provider_raw_attributes: dict[str, Any]


@dataclass(frozen=True)
class User:
    """The signed-in user, from the ID token's claims. `id` is the token's `sub` (`<connection_id>;<IdP user id>`)."""

    id: str
    email: str | None
    email_verified: bool
    name: str | None
    given_name: str | None
    family_name: str | None
    preferred_username: str | None
    groups: list[str]
    identities: list[Identity]
    custom_attributes: dict[str, Any]  # the connection's mapped extra attributes, as top-level claims

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> User:
        identities = [
            Identity(
                connection_id=str(item.get("connection_id", "")),
                organization_id=str(item.get("organization_id", "")),
                connection_type=str(item.get("connection_type", "")),
                provider_name=str(item.get("provider_name", "")),
                provider_raw_attributes=dict(item.get("provider_raw_attributes") or {}),
            )
            for item in claims.get("identities") or []
            if isinstance(item, dict)
        ]
        groups = claims.get("groups")
        return cls(
            id=str(claims.get("sub", "")),
            email=_str(claims.get("email")),
            email_verified=claims.get("email_verified") is True,
            name=_str(claims.get("name")),
            given_name=_str(claims.get("given_name")),
            family_name=_str(claims.get("family_name")),
            preferred_username=_str(claims.get("preferred_username")),
            groups=[g for g in groups if isinstance(g, str)] if isinstance(groups, list) else [],
            identities=identities,
            custom_attributes={k: v for k, v in claims.items() if k not in _STANDARD_CLAIMS},
        )


@dataclass(frozen=True)
class AuthenticationResult:
    user: User
    id_token: str
    access_token: str
    expires_in: int
    connection_id: str | None
    organization_id: str | None
    claims: dict[str, Any]  # every verified ID token claim

    @classmethod
    def from_tokens(cls, id_claims: Mapping[str, Any], id_token: str, access_token: str, expires_in: int) -> Any:
        amr = id_claims.get("amr")
        connection_id = amr[0] if isinstance(amr, list) and amr and isinstance(amr[0], str) else None
        return cls(
            user=User.from_claims(id_claims),
            id_token=id_token,
            access_token=access_token,
            expires_in=expires_in,
            connection_id=connection_id,
            organization_id=_str(id_claims.get("oid")),
            claims=dict(id_claims),
        )


@dataclass(frozen=True)
class IdpInitiatedLoginClaims:
    """What an `idp_initiated_login` token says: start a normal login with `connection_id` and `login_hint`."""

    connection_id: str
    organization_id: str
    login_hint: str | None
    relay_state: str | None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> IdpInitiatedLoginClaims:
        return cls(
            connection_id=str(claims.get("connection_id", "")),
            organization_id=str(claims.get("organization_id", "")),
            login_hint=_str(claims.get("login_hint")),
            relay_state=_str(claims.get("relay_state")),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str
    total_size: int


@dataclass(frozen=True)
class Organization:
    id: str
    environment_id: str
    display_name: str
    external_id: str | None
    slug: str | None
    logo_url: str | None
    metadata: dict[str, str]
    create_time: datetime | None
    update_time: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organization:
        return cls(
            id=data["id"],
            environment_id=data.get("environment_id", ""),
            display_name=data.get("display_name", ""),
            external_id=data.get("external_id"),
            slug=data.get("slug"),
            logo_url=data.get("logo_url"),
            metadata=dict(data.get("metadata") or {}),
            create_time=_time(data.get("create_time")),
            update_time=_time(data.get("update_time")),
        )


@dataclass(frozen=True)
class Domain:
    id: str
    organization_id: str
    domain: str
    domain_type: str
    verification_status: str
    verification_record: dict[str, str]  # the DNS TXT record to publish: {type, name, value}
    create_time: datetime | None
    update_time: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Domain:
        return cls(
            id=data["id"],
            organization_id=data.get("organization_id", ""),
            domain=data.get("domain", ""),
            domain_type=data.get("domain_type", ""),
            verification_status=data.get("verification_status", ""),
            verification_record=dict(data.get("verification_record") or {}),
            create_time=_time(data.get("create_time")),
            update_time=_time(data.get("update_time")),
        )


@dataclass(frozen=True)
class PortalLink:
    """An admin portal link. `location` is set only in the answer that created it (Entryway keeps a hash)."""

    id: str
    organization_id: str
    link_type: str  # SHAREABLE (7 days, reusable) | EMBEDDABLE (one use within a minute, 6-hour session)
    location: str | None
    create_time: datetime | None
    expire_time: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PortalLink:
        return cls(
            id=data["id"],
            organization_id=data.get("organization_id", ""),
            link_type=data.get("link_type", ""),
            location=data.get("location"),
            create_time=_time(data.get("create_time")),
            expire_time=_time(data.get("expire_time")),
        )


@dataclass(frozen=True)
class DomainVerification:
    domain: Domain
    verified: bool
    dns_check: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DomainVerification:
        return cls(Domain.from_json(data["domain"]), bool(data.get("verified")), dict(data.get("dns_check") or {}))


@dataclass(frozen=True)
class Connection:
    id: str
    organization_id: str
    type: str  # SAML | OIDC
    provider: str
    enabled: bool
    missing_configuration: list[str]
    attribute_mapping: dict[str, str]
    saml_config: dict[str, Any] | None = None
    oidc_config: dict[str, Any] | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Connection:
        return cls(
            id=data["id"],
            organization_id=data.get("organization_id", ""),
            type=data.get("type", ""),
            provider=data.get("provider", ""),
            enabled=bool(data.get("enabled")),
            missing_configuration=list(data.get("missing_configuration") or []),
            attribute_mapping=dict(data.get("attribute_mapping") or {}),
            saml_config=data.get("saml_config"),
            oidc_config=data.get("oidc_config"),
            create_time=_time(data.get("create_time")),
            update_time=_time(data.get("update_time")),
            raw=dict(data),
        )


def unwrap(body: Any, key: str) -> Mapping[str, Any]:
    """The resource in a `{"organization": {…}}` answer."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise TransportError(f"Entryway answered without the expected {key!r} object")
    return body[key]


def page_of(body: Any, key: str, parse: Any) -> Page[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise TransportError(f"Entryway answered without the expected {key!r} list")
    return Page(
        [parse(item) for item in body[key]], str(body.get("next_page_token") or ""), int(body.get("total_size") or 0)
    )
