"""The JSON shape of each resource, shared by the API and the CLI's --json output.

Never rendered: secret hashes, sealed IdP client secrets, private keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from entryway.connectors.oidc.discovery import ProviderCheck
from entryway.model.connections import ConnectionType, Domain, Organization, SsoConnection
from entryway.model.timestamps import rfc3339
from entryway.services.connections import (
    SEALED_SECRET_KEY,
    certificate_facts,
    missing_for_enable,
    sp_metadata_url,
    sp_slo_url,
)
from entryway.services.credentials import Client, Secret
from entryway.services.domains import verification_record
from entryway.services.environments import Environment, RedirectUri
from entryway.services.portal_links import PortalLink

CERTIFICATE_WARNING = timedelta(days=30)


def organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "environment_id": org.environment_id,
        "display_name": org.display_name,
        "external_id": org.external_id,
        "slug": org.slug,
        "logo_url": org.logo_url,
        "metadata": org.metadata,
        "create_time": rfc3339(org.create_time),
        "update_time": rfc3339(org.update_time),
    }


def domain(dom: Domain) -> dict[str, Any]:
    name, value = verification_record(dom)
    return {
        "id": dom.id,
        "organization_id": dom.organization_id,
        "domain": dom.domain,
        "domain_type": dom.domain_type.value,
        "verification_status": dom.verification_status,
        "verification_record": {"type": "TXT", "name": name, "value": value},
        "create_time": rfc3339(dom.create_time),
        "update_time": rfc3339(dom.update_time),
    }


def _certificate(pem: str) -> dict[str, Any]:
    try:
        facts = certificate_facts(pem)
    except (ValueError, TypeError):
        return {"certificate": pem, "expire_time": None, "fingerprint_sha256": None, "subject": None}
    return {
        "certificate": pem,
        "subject": facts.subject,
        "fingerprint_sha256": facts.fingerprint_sha256,
        "not_before": rfc3339(facts.not_before),
        "expire_time": rfc3339(facts.not_after),
        # The admin portal warns on this: the IdP must publish its next certificate before this one lapses.
        "expires_soon": facts.not_after - datetime.now(UTC) < CERTIFICATE_WARNING,
    }


def _saml_config(conn: SsoConnection, env_url: str) -> dict[str, Any]:
    config = dict(conn.saml_config)
    config["idp_certificates"] = [_certificate(pem) for pem in config.get("idp_certificates") or []]
    config["sp_metadata_url"] = sp_metadata_url(env_url, conn.id, config.get("sp_assertion_url"))
    config["sp_slo_url"] = sp_slo_url(env_url, conn)
    return config


def _oidc_config(conn: SsoConnection, env_url: str) -> dict[str, Any]:
    config = {k: v for k, v in conn.oidc_config.items() if k != SEALED_SECRET_KEY}
    config["client_secret_set"] = bool(conn.oidc_config.get(SEALED_SECRET_KEY))
    config["redirect_uri"] = conn.oidc_config.get("redirect_uri") or f"{env_url}/sso/v1/oidc/{conn.id}/callback"
    return config


def connection(conn: SsoConnection, env_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": conn.id,
        "organization_id": conn.organization_id,
        "type": conn.type.value,
        "provider": conn.provider.value,
        "enabled": conn.enabled,
        "missing_configuration": missing_for_enable(conn),
        "attribute_mapping": conn.attribute_mapping,
        "create_time": rfc3339(conn.create_time),
        "update_time": rfc3339(conn.update_time),
    }
    if conn.type is ConnectionType.SAML:
        out["saml_config"] = _saml_config(conn, env_url)
    else:
        out["oidc_config"] = _oidc_config(conn, env_url)
    return out


def environment(env: Environment, update_time: datetime | None = None) -> dict[str, Any]:
    return {
        "id": env.id,
        "type": env.type.value,
        "display_name": env.display_name,
        "url": env.public_url,  # the ENTRYWAY_ENV_URL to use: the verified custom domain's, if there is one
        "custom_domain": env.custom_domain if env.custom_domain_verified else None,
        "create_time": rfc3339(env.create_time),
        "update_time": rfc3339(update_time or env.create_time),
    }


def redirect_uri(uri: RedirectUri) -> dict[str, Any]:
    return {"uri": uri.uri, "kind": uri.kind.value, "default": uri.is_default, "create_time": rfc3339(uri.create_time)}


def secret(sec: Secret) -> dict[str, Any]:
    return {
        "id": sec.id,
        "client_id": sec.client_id,
        "secret_suffix": sec.secret_suffix,
        "status": sec.status,
        "create_time": rfc3339(sec.create_time),
        "update_time": rfc3339(sec.update_time),
        "last_used_time": rfc3339(sec.last_used_time),
        "expire_time": rfc3339(sec.expire_time),
        "created_by": sec.created_by,
    }


def client(cl: Client) -> dict[str, Any]:
    return {"id": cl.id, "environment_id": cl.environment_id, "kind": cl.kind, "name": cl.name, "scopes": cl.scopes}


def auth_event(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "auth_request_id": row.auth_request_id,
        "status": row.status,
        "step": row.step,
        "error_code": row.error_code,
        "message": row.message,
        "diagnosis": row.diagnosis or {},
        "organization_id": row.organization_id,
        "connection_id": row.connection_id,
        "email": row.email,
        "client_ip": row.client_ip,
        "create_time": rfc3339(row.create_time),
    }


def portal_link(link: PortalLink, location: str | None) -> dict[str, Any]:
    """`location` is known only when the link is made: Entryway keeps only a hash of its token."""
    return {
        "id": link.id,
        "organization_id": link.organization_id,
        "link_type": link.link_type.value,
        "location": location,
        "create_time": rfc3339(link.create_time),
        "expire_time": rfc3339(link.expire_time),
    }


def provider_check(checked: ProviderCheck) -> dict[str, Any]:
    """What a successful OIDC IdP check read (the endpoints logins will use)."""
    found = checked.provider
    return {
        "ok": True,
        "issuer": found.issuer,
        "authorization_endpoint": found.authorization_endpoint,
        "token_endpoint": found.token_endpoint,
        "userinfo_endpoint": found.userinfo_endpoint,
        "jwks_uri": found.jwks_uri,
        "end_session_endpoint": found.end_session_endpoint,
        "id_token_signing_alg_values_supported": list(found.signing_algs),
        "signing_keys": checked.signing_keys,
    }
