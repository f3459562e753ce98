"""The management API calls (CONTRACT §5) as `Call` values: each checks its arguments and names its path and
parser, so the sync and async resources differ only in how they send."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from entryway_sdk import arguments
from entryway_sdk.errors import ArgumentError
from entryway_sdk.models import (
    Connection,
    Domain,
    DomainVerification,
    Organization,
    Page,
    PortalLink,
    page_of,
    unwrap,
)
from entryway_sdk.transport import Call

DOMAIN_TYPES = ("ORGANIZATION_DOMAIN", "ALLOWED_EMAIL_DOMAIN")
LINK_TYPES = ("SHAREABLE", "EMBEDDABLE")
CONNECTION_TYPES = ("SAML", "OIDC")
PROVIDERS = (
    "OKTA",
    "MICROSOFT_AD",
    "GOOGLE",
    "JUMPCLOUD",
    "ONELOGIN",
    "PING_IDENTITY",
    "ADFS",
    "CUSTOM",
    "IDP_SIMULATOR",
)
_ORG_FIELDS = ("display_name", "external_id", "metadata", "slug", "logo_url")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _paging(page_size: int | None, page_token: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if arguments.page_size(page_size) is not None:
        params["page_size"] = page_size
    if page_token is not None:
        if not isinstance(page_token, str):
            raise ArgumentError("page_token must be a string (a next_page_token)")
        if page_token:
            params["page_token"] = page_token
    return params


def _org(body: Any) -> Organization:
    return Organization.from_json(unwrap(body, "organization"))


def _domain(body: Any) -> Domain:
    return Domain.from_json(unwrap(body, "domain"))


def _connection(body: Any) -> Connection:
    return Connection.from_json(unwrap(body, "connection"))


def _nothing(body: Any) -> None:
    return None


def _org_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_ORG_FIELDS)
    if unknown:
        raise ArgumentError(f"unknown organization fields: {', '.join(sorted(unknown))}")
    for name in ("display_name", "external_id", "slug"):
        if name in fields and fields[name] is not None:
            arguments.text(name, fields[name])
    if fields.get("logo_url") is not None:
        arguments.url("logo_url", fields["logo_url"])
    arguments.string_map("metadata", fields.get("metadata"))
    return fields


# organizations


def create_organization(display_name: str, **optional: Any) -> Call[Organization]:
    arguments.text("display_name", display_name)
    body = _org_fields({"display_name": display_name, **{k: v for k, v in optional.items() if v is not None}})
    return Call("POST", "/organizations", _org, body=body)


def get_organization(organization_id: str) -> Call[Organization]:
    arguments.resource_id("organization_id", organization_id, "org_")
    return Call("GET", f"/organizations/{_seg(organization_id)}", _org)


def get_organization_by_external_id(external_id: str) -> Call[Organization]:
    arguments.text("external_id", external_id)
    return Call("GET", f"/organizations:external/{_seg(external_id)}", _org)


def update_organization(organization_id: str, **fields: Any) -> Call[Organization]:
    arguments.resource_id("organization_id", organization_id, "org_")
    if not fields:
        raise ArgumentError(f"give at least one field to change: {', '.join(_ORG_FIELDS)}")
    return Call("PATCH", f"/organizations/{_seg(organization_id)}", _org, body=_org_fields(dict(fields)))


def delete_organization(organization_id: str) -> Call[None]:
    arguments.resource_id("organization_id", organization_id, "org_")
    return Call("DELETE", f"/organizations/{_seg(organization_id)}", _nothing)


def list_organizations(page_size: int | None = None, page_token: str | None = None) -> Call[Page[Organization]]:
    return Call(
        "GET",
        "/organizations",
        lambda body: page_of(body, "organizations", Organization.from_json),
        params=_paging(page_size, page_token),
    )


# domains


def _domains_path(organization_id: str) -> str:
    arguments.resource_id("organization_id", organization_id, "org_")
    return f"/organizations/{_seg(organization_id)}/domains"


def create_domain(organization_id: str, domain: str, domain_type: str = "ORGANIZATION_DOMAIN") -> Call[Domain]:
    path = _domains_path(organization_id)
    arguments.text("domain", domain)
    arguments.one_of("domain_type", domain_type, DOMAIN_TYPES)
    return Call("POST", path, _domain, body={"domain": domain, "domain_type": domain_type})


def get_domain(organization_id: str, domain_id: str) -> Call[Domain]:
    path = _domains_path(organization_id)
    arguments.resource_id("domain_id", domain_id, "dom_")
    return Call("GET", f"{path}/{_seg(domain_id)}", _domain)


def delete_domain(organization_id: str, domain_id: str) -> Call[None]:
    path = _domains_path(organization_id)
    arguments.resource_id("domain_id", domain_id, "dom_")
    return Call("DELETE", f"{path}/{_seg(domain_id)}", _nothing)


def verify_domain(organization_id: str, domain_id: str) -> Call[DomainVerification]:
    path = _domains_path(organization_id)
    arguments.resource_id("domain_id", domain_id, "dom_")
    return Call("PATCH", f"{path}/{_seg(domain_id)}:verify", DomainVerification.from_json)


def list_domains(
    organization_id: str, page_size: int | None = None, page_token: str | None = None
) -> Call[Page[Domain]]:
    path = _domains_path(organization_id)
    return Call(
        "GET", path, lambda body: page_of(body, "domains", Domain.from_json), params=_paging(page_size, page_token)
    )


# connections


def _connections_path(organization_id: str) -> str:
    arguments.resource_id("organization_id", organization_id, "org_")
    return f"/organizations/{_seg(organization_id)}/connections"


def _connection_body(saml_config: Any, oidc_config: Any, attribute_mapping: Any, **given: Any) -> dict[str, Any]:
    body = {k: v for k, v in given.items() if v is not None}
    if saml_config is not None:
        body["saml_config"] = arguments.plain_object("saml_config", saml_config)
    if oidc_config is not None:
        body["oidc_config"] = arguments.plain_object("oidc_config", oidc_config)
    if attribute_mapping is not None:
        body["attribute_mapping"] = arguments.string_map("attribute_mapping", attribute_mapping)
    return body


def create_connection(
    organization_id: str,
    *,
    type: str,
    provider: str,
    saml_config: dict[str, Any] | None = None,
    oidc_config: dict[str, Any] | None = None,
    attribute_mapping: dict[str, str] | None = None,
) -> Call[Connection]:
    path = _connections_path(organization_id)
    arguments.one_of("type", type, CONNECTION_TYPES)
    arguments.one_of("provider", provider, PROVIDERS)
    body = _connection_body(saml_config, oidc_config, attribute_mapping, type=type, provider=provider)
    return Call("POST", path, _connection, body=body)


def get_connection(organization_id: str, connection_id: str) -> Call[Connection]:
    path = _connections_path(organization_id)
    arguments.resource_id("connection_id", connection_id, "conn_")
    return Call("GET", f"{path}/{_seg(connection_id)}", _connection)


def update_connection(
    organization_id: str,
    connection_id: str,
    *,
    provider: str | None = None,
    saml_config: dict[str, Any] | None = None,
    oidc_config: dict[str, Any] | None = None,
    attribute_mapping: dict[str, str] | None = None,
) -> Call[Connection]:
    path = _connections_path(organization_id)
    arguments.resource_id("connection_id", connection_id, "conn_")
    if provider is not None:
        arguments.one_of("provider", provider, PROVIDERS)
    body = _connection_body(saml_config, oidc_config, attribute_mapping, provider=provider)
    if not body:
        raise ArgumentError("give at least one of provider, saml_config, oidc_config, attribute_mapping")
    return Call("PATCH", f"{path}/{_seg(connection_id)}", _connection, body=body)


def switch_connection(organization_id: str, connection_id: str, enabled: bool) -> Call[Connection]:
    path = _connections_path(organization_id)
    arguments.resource_id("connection_id", connection_id, "conn_")
    action = "enable" if arguments.flag("enabled", enabled) else "disable"
    return Call("PATCH", f"{path}/{_seg(connection_id)}:{action}", _connection)


def delete_connection(organization_id: str, connection_id: str) -> Call[None]:
    path = _connections_path(organization_id)
    arguments.resource_id("connection_id", connection_id, "conn_")
    return Call("DELETE", f"{path}/{_seg(connection_id)}", _nothing)


def list_connections(
    organization_id: str | None = None,
    domain: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Call[Page[Connection]]:
    """An organization's connections, or (by domain, or every one) a search across the environment."""
    arguments.optional_resource_id("organization_id", organization_id, "org_")
    arguments.optional_text("domain", domain)
    params = _paging(page_size, page_token)
    if organization_id is not None and domain is None:
        path = _connections_path(organization_id)
    else:
        path = "/connections"
        params.update({k: v for k, v in (("organization_id", organization_id), ("domain", domain)) if v is not None})
    return Call("GET", path, lambda body: page_of(body, "connections", Connection.from_json), params=params)


# portal links


def _links_path(organization_id: str) -> str:
    arguments.resource_id("organization_id", organization_id, "org_")
    return f"/organizations/{_seg(organization_id)}/portal_links"


def _link(body: Any) -> PortalLink:
    return PortalLink.from_json(unwrap(body, "link"))


def create_portal_link(organization_id: str, link_type: str = "EMBEDDABLE") -> Call[PortalLink]:
    path = _links_path(organization_id)
    if link_type not in LINK_TYPES:
        raise ArgumentError(f"link_type must be one of {', '.join(LINK_TYPES)}, not {link_type!r}")
    return Call("PUT", path, _link, body={"link_type": link_type})


def list_portal_links(
    organization_id: str, page_size: int | None = None, page_token: str | None = None
) -> Call[Page[PortalLink]]:
    return Call(
        "GET",
        _links_path(organization_id),
        lambda body: page_of(body, "links", PortalLink.from_json),
        params=_paging(page_size, page_token),
    )


def revoke_portal_link(organization_id: str, link_id: str) -> Call[None]:
    path = _links_path(organization_id)
    arguments.resource_id("link_id", link_id, "lnk_")
    return Call("DELETE", f"{path}/{_seg(link_id)}", _nothing)
