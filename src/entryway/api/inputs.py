"""The request bodies the management API accepts. Shapes and JSON types only: the services check the rules."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from entryway.api.bodies import Input
from entryway.model.connections import Provider


class OrganizationCreate(Input):
    display_name: str
    external_id: str | None = None
    metadata: dict[str, str] | None = None
    slug: str | None = None
    logo_url: str | None = None


class OrganizationUpdate(Input):
    display_name: str | None = None
    external_id: str | None = None
    metadata: dict[str, str] | None = None
    slug: str | None = None
    logo_url: str | None = None


class DomainCreate(Input):
    domain: str
    domain_type: Literal["ORGANIZATION_DOMAIN", "ALLOWED_EMAIL_DOMAIN"] = "ORGANIZATION_DOMAIN"


class SamlConfig(Input):
    idp_metadata_url: str | None = None
    idp_metadata_xml: str | None = None
    idp_entity_id: str | None = None
    idp_sso_url: str | None = None
    idp_slo_url: str | None = None
    idp_certificates: list[str] | None = None
    idp_sso_request_binding: Literal["HTTP_REDIRECT", "HTTP_POST"] | None = None
    idp_slo_request_binding: Literal["HTTP_REDIRECT", "HTTP_POST"] | None = None
    idp_name_id_format: str | None = None
    want_request_signed: bool | None = None
    assertion_encrypted: bool | None = None
    force_authn: bool | None = None
    allow_idp_initiated_login: bool | None = None
    allow_sha1: bool | None = None
    required_attributes: list[str] | None = None
    sp_entity_id: str | None = None
    sp_assertion_url: str | None = None


class OidcConfig(Input):
    issuer: str | None = None
    discovery_endpoint: str | None = None
    authorize_uri: str | None = None
    token_uri: str | None = None
    user_info_uri: str | None = None
    jwks_uri: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] | None = None
    token_auth_type: Literal["URL_PARAMS", "BASIC_AUTH"] | None = None
    pkce_enabled: bool | None = None


class ConnectionCreate(Input):
    type: Literal["SAML", "OIDC"]
    provider: Provider
    saml_config: SamlConfig | None = None
    oidc_config: OidcConfig | None = None
    attribute_mapping: dict[str, str] | None = None


class ConnectionUpdate(Input):
    type: Literal["SAML", "OIDC"] | None = None  # accepted only to say clearly that it cannot change
    provider: Provider | None = None
    saml_config: SamlConfig | None = None
    oidc_config: OidcConfig | None = None
    attribute_mapping: dict[str, str] | None = None


class EnvironmentUpdate(Input):
    display_name: str | None = None


class RedirectUriBody(Input):
    uri: str
    kind: Literal["callback", "post_logout"] = "callback"


class InitiateLoginBody(Input):
    uri: str


class SecretCreate(Input):
    expire_time: AwareDatetime | None = None


class SecretStatus(Input):
    status: Literal["ACTIVE", "INACTIVE"]


class PortalLinkCreate(Input):
    link_type: Literal["SHAREABLE", "EMBEDDABLE"] | None = None
