"""Connection types, providers and the shape of their stored configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConnectionType(StrEnum):
    SAML = "SAML"
    OIDC = "OIDC"


class Provider(StrEnum):
    OKTA = "OKTA"
    MICROSOFT_AD = "MICROSOFT_AD"
    GOOGLE = "GOOGLE"
    JUMPCLOUD = "JUMPCLOUD"
    ONELOGIN = "ONELOGIN"
    PING_IDENTITY = "PING_IDENTITY"
    ADFS = "ADFS"
    CUSTOM = "CUSTOM"
    IDP_SIMULATOR = "IDP_SIMULATOR"


class DomainType(StrEnum):
    ORGANIZATION_DOMAIN = "ORGANIZATION_DOMAIN"
    ALLOWED_EMAIL_DOMAIN = "ALLOWED_EMAIL_DOMAIN"


# Profile field -> IdP attribute name. The defaults cover the common SAML names; presets refine them.
DEFAULT_ATTRIBUTE_MAPPING: dict[str, str] = {
    "email": "email",
    "given_name": "firstName",
    "family_name": "lastName",
    "name": "name",
    "groups": "groups",
}


@dataclass(frozen=True)
class SsoConnection:
    id: str
    environment_id: str
    organization_id: str
    type: ConnectionType
    provider: Provider
    enabled: bool
    saml_config: dict[str, Any]
    oidc_config: dict[str, Any]
    attribute_mapping: dict[str, str]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class Organization:
    id: str
    environment_id: str
    display_name: str
    external_id: str | None
    slug: str | None
    logo_url: str | None
    metadata: dict[str, Any]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class Domain:
    id: str
    environment_id: str
    organization_id: str
    domain: str
    domain_type: DomainType
    verification_status: str
    verification_token: str
    create_time: datetime
    update_time: datetime
