"""SSO connections: the login-path lookups, and their creation, configuration, enabling and deletion.

Fail closed (DESIGN §4.7): a SAML connection is enabled only with an IdP entity ID, SSO URL and at least one
certificate, and an enabled connection cannot be edited into an incomplete one.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select, update

from entryway.connectors.oidc.discovery import ProviderCheck, needs_provider, settings_source
from entryway.connectors.saml.metadata_import import METADATA_INPUTS, import_metadata
from entryway.events import payloads
from entryway.events.outbox import emit_event
from entryway.ids import new_id
from entryway.keys.material import certificate_fingerprint, certificate_pem, load_certificate
from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING, ConnectionType, Provider, SsoConnection
from entryway.model.errors import ApiError, FieldViolation, invalid, not_found
from entryway.presets import preset_for
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.organizations import get_organization
from entryway.store.tables import connections, signing_keys

SAML_BINDINGS = ("HTTP_REDIRECT", "HTTP_POST")
TOKEN_AUTH_TYPES = ("URL_PARAMS", "BASIC_AUTH")
DEFAULT_NAME_ID_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
SAML_FLAGS = ("want_request_signed", "assertion_encrypted", "force_authn", "allow_idp_initiated_login", "allow_sha1")
SAML_REQUIRED_TO_ENABLE = ("idp_entity_id", "idp_sso_url", "idp_certificates")
SAML_FIELDS = frozenset(
    {
        "idp_metadata_url",
        "idp_metadata_xml",
        "idp_entity_id",
        "idp_sso_url",
        "idp_slo_url",
        "idp_certificates",
        "idp_sso_request_binding",
        "idp_slo_request_binding",
        "idp_name_id_format",
        "sp_entity_id",
        "sp_assertion_url",
        "required_attributes",
        *SAML_FLAGS,
    }
)
OIDC_URL_FIELDS = ("issuer", "discovery_endpoint", "authorize_uri", "token_uri", "user_info_uri", "jwks_uri")
OIDC_FIELDS = frozenset({*OIDC_URL_FIELDS, "client_id", "client_secret", "scopes", "token_auth_type", "pkce_enabled"})
# The sealed IdP client secret is kept under this key of oidc_config (base64 of the AES-GCM envelope).
SEALED_SECRET_KEY = "client_secret_sealed"
MAX_CERTIFICATES = 5
MAX_CERTIFICATE_CHARS = 16 * 1024
MAX_URL = 2048
MAX_MAPPING_ENTRIES = 50
_UPDATABLE = frozenset({"provider", "saml_config", "oidc_config", "attribute_mapping"})
_MAPPING_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Claims Entryway sets itself: a mapped custom attribute may not overwrite them in the ID token.
_RESERVED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "nonce", "amr", "oid", "sid", "at_hash", "c_hash"}
    | {"identities", "email_verified", "auth_time", "acr"}
)


# A connection's columns in SsoConnection's field order: connection_from_values takes a row of exactly these.
CONNECTION_COLUMNS = tuple(
    connections.c[name]
    for name in ("id", "environment_id", "organization_id", "type", "provider", "enabled", "saml_config",
                 "oidc_config", "attribute_mapping", "create_time", "update_time")
)  # fmt: skip


def connection_from_values(
    id: str, environment_id: str, organization_id: str, type: str, provider: str, enabled: object,
    saml_config: dict[str, Any] | None, oidc_config: dict[str, Any] | None, attribute_mapping: dict[str, str] | None,
    create_time: datetime, update_time: datetime,
) -> SsoConnection:  # fmt: skip
    return SsoConnection(
        id,
        environment_id,
        organization_id,
        ConnectionType(type),
        Provider(provider),
        bool(enabled),
        saml_config or {},
        oidc_config or {},
        attribute_mapping or {},
        create_time,
        update_time,
    )


def connection_from_row(row: object) -> SsoConnection:
    r = row._mapping  # type: ignore[attr-defined]
    return connection_from_values(*(r[column.name] for column in CONNECTION_COLUMNS))


def find_connection(conn: Connection, env_id: str, connection_id: str) -> SsoConnection | None:
    row = conn.execute(
        select(*CONNECTION_COLUMNS).where(connections.c.id == connection_id, connections.c.environment_id == env_id)
    ).first()
    return connection_from_values(*row) if row is not None else None


def organization_connections(conn: Connection, env_id: str, org_id: str) -> list[SsoConnection]:
    rows = conn.execute(
        select(connections)
        .where(connections.c.organization_id == org_id, connections.c.environment_id == env_id)
        .order_by(connections.c.id)
    ).all()
    return [connection_from_row(r) for r in rows]


def sp_urls(env_url: str, connection_id: str) -> dict[str, str]:
    """The SP entity ID and ACS URL (CONTRACT §4), fixed when the connection is created."""
    base = f"{env_url}/sso/v1/saml/{connection_id}"
    return {"sp_entity_id": base, "sp_assertion_url": f"{base}/callback"}


def sp_metadata_url(env_url: str, connection_id: str, sp_assertion_url: object = None) -> str:
    """Beside the ACS URL when that is Entryway's default shape (it keeps the host it was created on)."""
    suffix = f"/sso/v1/saml/{connection_id}/callback"
    if isinstance(sp_assertion_url, str) and sp_assertion_url.endswith(suffix):
        env_url = sp_assertion_url.removesuffix(suffix)
    return f"{env_url}/sso/v1/saml/{connection_id}/metadata"


def sp_slo_url(env_url: str, connection: SsoConnection) -> str:
    """The SP single logout URL: beside the ACS URL, so it stays as fixed as the ACS is (CONTRACT §4)."""
    acs = str(connection.saml_config.get("sp_assertion_url") or "")
    suffix = f"/sso/v1/saml/{connection.id}/callback"
    if acs.endswith(suffix):
        return acs[: -len("callback")] + "slo"
    return f"{env_url}/sso/v1/saml/{connection.id}/slo"


def insert_connection(
    rt: Runtime,
    conn: Connection,
    *,
    env_id: str,
    env_url: str,
    organization_id: str,
    type: ConnectionType,
    provider: Provider,
    saml_config: dict[str, Any] | None = None,
    oidc_config: dict[str, Any] | None = None,
    attribute_mapping: dict[str, str] | None = None,
    enabled: bool = False,
    connection_id: str | None = None,
) -> SsoConnection:
    """Store an already-validated connection. SAML connections get their SP URLs fixed here."""
    connection_id = connection_id or new_id("conn")
    now = rt.clock.now()
    if type is ConnectionType.SAML:
        saml_config = {**sp_urls(env_url, connection_id), **(saml_config or {})}
    elif type is ConnectionType.OIDC:
        # Fixed like the SAML SP URLs: a custom domain verified later leaves the IdP's registration valid.
        oidc_config = {"redirect_uri": f"{env_url}/sso/v1/oidc/{connection_id}/callback", **(oidc_config or {})}
    conn.execute(
        insert(connections).values(
            id=connection_id,
            environment_id=env_id,
            organization_id=organization_id,
            type=type.value,
            provider=provider.value,
            enabled=enabled,
            saml_config=saml_config,
            oidc_config=oidc_config,
            attribute_mapping=attribute_mapping or {},
            create_time=now,
            update_time=now,
        )
    )
    found = find_connection(conn, env_id, connection_id)
    assert found is not None
    _emit(conn, "organization.sso_created", found, now)
    if enabled:
        _emit(conn, "organization.sso_enabled", found, now)
    return found


def _emit(conn: Connection, event_type: str, connection: SsoConnection, now: datetime | None) -> None:
    emit_event(
        conn,
        event_type,
        environment_id=connection.environment_id,
        organization_id=connection.organization_id,
        data=payloads.connection(connection),
        occurred_at=now,
    )


# --- reading for the API ---------------------------------------------------------------------------------


def get_connection(conn: Connection, env_id: str, connection_id: str, org_id: str | None = None) -> SsoConnection:
    found = find_connection(conn, env_id, connection_id)
    if found is None or (org_id is not None and found.organization_id != org_id):
        raise not_found("connection", connection_id)
    return found


def list_connections(
    conn: Connection,
    env_id: str,
    *,
    organization_id: str | None = None,
    after_id: str | None = None,
    limit: int | None = None,
) -> list[SsoConnection]:
    query = select(connections).where(connections.c.environment_id == env_id)
    if organization_id is not None:
        query = query.where(connections.c.organization_id == organization_id)
    if after_id is not None:
        query = query.where(connections.c.id > after_id)
    query = query.order_by(connections.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [connection_from_row(r) for r in conn.execute(query)]


def count_connections(conn: Connection, env_id: str, *, organization_id: str | None = None) -> int:
    query = select(func.count()).select_from(connections).where(connections.c.environment_id == env_id)
    if organization_id is not None:
        query = query.where(connections.c.organization_id == organization_id)
    return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class CertificateFacts:
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    subject: str


@lru_cache(maxsize=1024)
def certificate_facts(pem: str) -> CertificateFacts:
    """Parsed once per distinct certificate text (rendering a connection must not re-parse its PEMs)."""
    cert = load_certificate(pem)
    return CertificateFacts(
        certificate_fingerprint(cert),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        cert.subject.rfc4514_string(),
    )


def missing_for_enable(connection: SsoConnection) -> list[str]:
    """The configuration a connection still lacks before it may be enabled (empty: it may be)."""
    if connection.type is ConnectionType.OIDC:
        config = connection.oidc_config
        missing = [name for name in ("client_id",) if not config.get(name)]
        missing += [] if config.get(SEALED_SECRET_KEY) else ["client_secret"]
        return missing + ([] if config.get("issuer") or config.get("discovery_endpoint") else ["issuer"])
    return [name for name in SAML_REQUIRED_TO_ENABLE if not connection.saml_config.get(name)]


def _config_field(connection: SsoConnection, name: str) -> str:
    return f"{'oidc_config' if connection.type is ConnectionType.OIDC else 'saml_config'}.{name}"


def oidc_client_secret(rt: Runtime, connection: SsoConnection) -> str | None:
    """The IdP client secret of an OIDC connection, opened from its sealed form (for the OIDC connector)."""
    sealed = connection.oidc_config.get(SEALED_SECRET_KEY)
    if not sealed:
        return None
    return rt.sealer.open(base64.b64decode(sealed), context=f"oidc_client_secret:{connection.id}").decode()


# --- validation ------------------------------------------------------------------------------------------


def url_problems(value: Any, env: Environment) -> list[str]:
    if not isinstance(value, str) or not value:
        return ["must be a non-empty URL"]
    if len(value) > MAX_URL:
        return [f"at most {MAX_URL} characters"]
    if any(ch.isspace() for ch in value):
        return ["must not contain whitespace"]
    try:
        parts = urlsplit(value)
    except ValueError:
        return ["is not a valid URL"]
    allowed = ("https", "http") if env.is_development else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        return ["must be an absolute https URL" + (" (http is allowed in development)" if env.is_development else "")]
    if parts.fragment:
        return ["must not have a fragment"]
    if parts.username or parts.password:
        return ["must not contain user information"]
    return []


def _text_problems(value: Any, limit: int) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return ["must be a non-empty string"]
    if len(value) > limit:
        return [f"at most {limit} characters"]
    return []


def _normalize_certificates(value: Any, violations: list[FieldViolation]) -> list[str]:
    field = "saml_config.idp_certificates"
    if not isinstance(value, list):
        violations.append(FieldViolation(field, "must be a list of certificates (PEM or base64)"))
        return []
    if len(value) > MAX_CERTIFICATES:
        violations.append(FieldViolation(field, f"at most {MAX_CERTIFICATES} certificates"))
        return []
    pems: list[str] = []
    for index, text in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(text, str) or not text.strip():
            violations.append(FieldViolation(where, "must be a certificate in PEM or base64"))
            continue
        if len(text) > MAX_CERTIFICATE_CHARS:
            violations.append(FieldViolation(where, f"at most {MAX_CERTIFICATE_CHARS} characters"))
            continue
        try:
            pem = certificate_pem(load_certificate(text))
        except (ValueError, TypeError) as exc:
            violations.append(FieldViolation(where, f"is not an X.509 certificate in PEM or base64 DER ({exc})"))
            continue
        if pem not in pems:
            pems.append(pem)
    return pems


def _check_saml(
    given: Mapping[str, Any], env: Environment, current: SsoConnection | None, violations: list[FieldViolation]
) -> dict[str, Any]:
    """Validate the given saml_config fields; return them normalized (None values mean: back to the default)."""
    out: dict[str, Any] = {}
    for name in sorted(set(given) - SAML_FIELDS):
        violations.append(FieldViolation(f"saml_config.{name}", "unknown field"))
    for name, value in given.items():
        if name not in SAML_FIELDS or name in METADATA_INPUTS:  # metadata is read by import_metadata
            continue
        field = f"saml_config.{name}"
        if value is None:
            if name in ("sp_entity_id", "sp_assertion_url"):
                violations.append(FieldViolation(field, "cannot be cleared"))
            out[name] = None
            continue
        if name == "idp_entity_id":
            problems = _text_problems(value, 1024)
            if not problems and any(ch.isspace() for ch in value):
                problems = ["must not contain whitespace"]
            violations.extend(FieldViolation(field, p) for p in problems)
            out[name] = value
        elif name in ("idp_sso_url", "idp_slo_url", "sp_assertion_url"):
            violations.extend(FieldViolation(field, p) for p in url_problems(value, env))
            out[name] = value
        elif name == "sp_entity_id":
            problems = _text_problems(value, 1024)
            if not problems and any(ch.isspace() for ch in value):
                problems = ["must not contain whitespace"]
            violations.extend(FieldViolation(field, p) for p in problems)
            out[name] = value
        elif name == "idp_certificates":
            out[name] = _normalize_certificates(value, violations)
        elif name in ("idp_sso_request_binding", "idp_slo_request_binding"):
            if value not in SAML_BINDINGS:
                violations.append(FieldViolation(field, f"must be one of {', '.join(SAML_BINDINGS)}"))
            out[name] = value
        elif name == "idp_name_id_format":
            problems = _text_problems(value, 256)
            if not problems and not value.startswith("urn:"):
                problems = ["must be a SAML NameID format URN (urn:oasis:names:tc:SAML:…)"]
            violations.extend(FieldViolation(field, p) for p in problems)
            out[name] = value
        elif name == "required_attributes":
            if not isinstance(value, list) or not all(isinstance(v, str) and _MAPPING_KEY.match(v) for v in value):
                violations.append(FieldViolation(field, "must be a list of profile field names (mapping keys)"))
            elif len(value) > MAX_MAPPING_ENTRIES:
                violations.append(FieldViolation(field, f"at most {MAX_MAPPING_ENTRIES} entries"))
            out[name] = value
        elif name in SAML_FLAGS:
            if not isinstance(value, bool):
                violations.append(FieldViolation(field, "must be true or false"))
            out[name] = value
    if current is not None:
        # The SP values are what the IdP was configured with; they change only by creating (importing) anew.
        for name in ("sp_entity_id", "sp_assertion_url"):
            if name in out and out[name] != current.saml_config.get(name):
                violations.append(
                    FieldViolation(f"saml_config.{name}", "is fixed when the connection is created (read-only)")
                )
    return out


def _saml_defaults() -> dict[str, Any]:
    return {
        "idp_certificates": [],
        "idp_sso_request_binding": "HTTP_REDIRECT",
        "idp_name_id_format": DEFAULT_NAME_ID_FORMAT,
        **dict.fromkeys(SAML_FLAGS, False),
    }


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
            if name in defaults:
                merged[name] = defaults[name]
        else:
            merged[name] = value
    return merged


def _require_provider_check(check: ProviderCheck | None, config: Mapping[str, Any]) -> None:
    """An OIDC connection naming an IdP is saved or enabled only with a check of exactly these URL values,
    made before the transaction (services/connection_checks.py)."""
    if not needs_provider(dict(config)):
        return
    if check is None:
        raise RuntimeError("the IdP of an OIDC connection must be checked (connection_checks) before it is saved")
    if check.source != settings_source(dict(config)):
        raise ApiError(409, "The connection's IdP settings changed while they were being checked: retry the request")


def _check_oidc(
    rt: Runtime,
    conn: Connection,
    given: Mapping[str, Any],
    env: Environment,
    connection_id: str,
    violations: list[FieldViolation],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(set(given) - OIDC_FIELDS):
        violations.append(FieldViolation(f"oidc_config.{name}", "unknown field"))
    for name, value in given.items():
        field = f"oidc_config.{name}"
        if name not in OIDC_FIELDS:
            continue
        if value is None:
            out[SEALED_SECRET_KEY if name == "client_secret" else name] = None
            continue
        if name in OIDC_URL_FIELDS:
            violations.extend(FieldViolation(field, p) for p in url_problems(value, env))
            out[name] = value
        elif name == "client_id":
            violations.extend(FieldViolation(field, p) for p in _text_problems(value, 256))
            out[name] = value
        elif name == "client_secret":
            problems = _text_problems(value, 1024)
            violations.extend(FieldViolation(field, p) for p in problems)
            if not problems:
                sealed = rt.sealer.seal(value.encode(), context=f"oidc_client_secret:{connection_id}", conn=conn)
                out[SEALED_SECRET_KEY] = base64.b64encode(sealed).decode()
        elif name == "scopes":
            if not isinstance(value, list) or not all(
                isinstance(s, str) and s and not any(ch.isspace() for ch in s) for s in value
            ):
                violations.append(FieldViolation(field, "must be a list of scope names without spaces"))
            elif len(value) > 20:
                violations.append(FieldViolation(field, "at most 20 scopes"))
            out[name] = value
        elif name == "token_auth_type":
            if value not in TOKEN_AUTH_TYPES:
                violations.append(FieldViolation(field, f"must be one of {', '.join(TOKEN_AUTH_TYPES)}"))
            out[name] = value
        elif name == "pkce_enabled":
            if not isinstance(value, bool):
                violations.append(FieldViolation(field, "must be true or false"))
            out[name] = value
    return out


def _oidc_defaults() -> dict[str, Any]:
    return {"scopes": ["openid", "profile", "email"], "token_auth_type": "URL_PARAMS", "pkce_enabled": True}


def _check_mapping(value: Any, violations: list[FieldViolation]) -> dict[str, str]:
    field = "attribute_mapping"
    if not isinstance(value, dict):
        violations.append(FieldViolation(field, "must be an object: profile field -> IdP attribute name"))
        return {}
    if len(value) > MAX_MAPPING_ENTRIES:
        violations.append(FieldViolation(field, f"at most {MAX_MAPPING_ENTRIES} entries"))
    for key, attribute in value.items():
        where = f"{field}.{key}"
        if not isinstance(key, str) or not _MAPPING_KEY.match(key):
            violations.append(FieldViolation(where, "keys are 1-64 letters, digits and underscores"))
        elif key in _RESERVED_CLAIMS:
            violations.append(FieldViolation(where, "is a claim Entryway sets itself and cannot be mapped"))
        if not isinstance(attribute, str) or not attribute.strip() or len(attribute) > 256:
            violations.append(FieldViolation(where, "must name an IdP attribute (1-256 characters)"))
    if "email" not in value:
        violations.append(FieldViolation(f"{field}.email", "the email attribute must be mapped"))
    return dict(value)


def _parse_enum(enum: type[Any], value: Any, field: str, violations: list[FieldViolation]) -> Any:
    try:
        return enum(value)
    except ValueError:
        violations.append(FieldViolation(field, f"must be one of {', '.join(m.value for m in enum)}"))
        return None


def _check_provider(
    provider: Provider | None, type_: ConnectionType | None, env: Environment, violations: list[FieldViolation]
) -> None:
    if provider is Provider.IDP_SIMULATOR:
        if not env.is_development:
            violations.append(FieldViolation("provider", "the IdP simulator is available in development only"))
        elif type_ is ConnectionType.OIDC:
            violations.append(FieldViolation("provider", "the IdP simulator is a SAML IdP"))


def _simulator_saml(conn: Connection, env: Environment, connection_id: str) -> dict[str, Any]:
    """The IdP simulator's side of a simulator connection, filled in so it works without manual setup."""
    base = f"{env.url}/sso/v1/simulator/{connection_id}"
    config: dict[str, Any] = {"idp_entity_id": base, "idp_sso_url": f"{base}/sso"}
    cert = conn.execute(
        select(signing_keys.c.certificate_pem).where(
            signing_keys.c.environment_id == env.id,
            signing_keys.c.purpose == "simulator",
            signing_keys.c.status == "active",
        )
    ).scalar()
    if cert:
        config["idp_certificates"] = [cert]
    return config


# --- writing ---------------------------------------------------------------------------------------------


def create_connection(
    rt: Runtime,
    conn: Connection,
    env: Environment,
    org_id: str,
    *,
    type: ConnectionType | str,
    provider: Provider | str,
    saml_config: Mapping[str, Any] | None = None,
    oidc_config: Mapping[str, Any] | None = None,
    attribute_mapping: Mapping[str, Any] | None = None,
    fetched_metadata: bytes | None = None,
    provider_check: ProviderCheck | None = None,
) -> SsoConnection:
    """`fetched_metadata` is the document at saml_config.idp_metadata_url, and `provider_check` the OIDC IdP
    read from the settings given (connection_checks.check_before_create), both fetched before the transaction."""
    get_organization(conn, env.id, org_id)
    violations: list[FieldViolation] = []
    type_ = _parse_enum(ConnectionType, type, "type", violations)
    provider_ = _parse_enum(Provider, provider, "provider", violations)
    _check_provider(provider_, type_, env, violations)
    connection_id = new_id("conn")
    saml: dict[str, Any] | None = None
    oidc: dict[str, Any] | None = None
    if type_ is ConnectionType.SAML and oidc_config is not None:
        violations.append(FieldViolation("oidc_config", "a SAML connection takes saml_config, not oidc_config"))
    if type_ is ConnectionType.OIDC and saml_config is not None:
        violations.append(FieldViolation("saml_config", "an OIDC connection takes oidc_config, not saml_config"))
    if type_ is ConnectionType.SAML:
        imported = import_metadata(saml_config or {}, fetched_metadata, None, rt.clock.now(), violations)
        given = _check_saml({**(imported.fields if imported else {}), **(saml_config or {})}, env, None, violations)
        filled = _simulator_saml(conn, env, connection_id) if provider_ is Provider.IDP_SIMULATOR else {}
        saml = _merge({**_saml_defaults(), **filled}, given, _saml_defaults())
        saml = _merge(saml, imported.facts if imported else {}, {})
    elif type_ is ConnectionType.OIDC:
        oidc = _merge(_oidc_defaults(), _check_oidc(rt, conn, oidc_config or {}, env, connection_id, violations), {})
    preset = preset_for(provider_, type_) if provider_ is not None and type_ is not None else None
    mapping = (
        _check_mapping(attribute_mapping, violations)
        if attribute_mapping is not None
        else dict(preset.attribute_mapping if preset else DEFAULT_ATTRIBUTE_MAPPING)
    )
    if violations:
        raise invalid(violations)
    if oidc is not None:
        _require_provider_check(provider_check, oidc)
    return insert_connection(
        rt,
        conn,
        env_id=env.id,
        env_url=env.public_url,  # a verified custom domain applies to new connections (CONTRACT §4)
        organization_id=org_id,
        type=type_,
        provider=provider_,
        saml_config=saml,
        oidc_config=oidc,
        attribute_mapping=mapping,
        connection_id=connection_id,
    )


def update_connection(
    rt: Runtime,
    conn: Connection,
    env: Environment,
    connection_id: str,
    changes: Mapping[str, Any],
    *,
    org_id: str | None = None,
    fetched_metadata: bytes | None = None,
    provider_check: ProviderCheck | None = None,
) -> SsoConnection:
    """Apply a PATCH: configs are merged field by field (null resets a field); type and SP values are fixed.

    Metadata in the PATCH (idp_metadata_xml, or idp_metadata_url with the `fetched_metadata` document)
    replaces the IdP values it carries; fields given by hand next to it win.
    """
    current = get_connection(conn, env.id, connection_id, org_id)
    violations = [FieldViolation(name, "unknown field") for name in sorted(set(changes) - _UPDATABLE - {"type"})]
    if "type" in changes and changes["type"] != current.type.value:
        violations.append(FieldViolation("type", "cannot be changed: create a new connection instead"))
    values: dict[str, Any] = {}
    provider = current.provider
    if changes.get("provider") is not None:
        provider = _parse_enum(Provider, changes["provider"], "provider", violations) or current.provider
        _check_provider(provider, current.type, env, violations)
        values["provider"] = provider.value
    saml = current.saml_config
    oidc = current.oidc_config
    if changes.get("saml_config") is not None:
        if current.type is not ConnectionType.SAML:
            violations.append(FieldViolation("saml_config", "an OIDC connection takes oidc_config, not saml_config"))
        else:
            given_saml = changes["saml_config"]
            imported = import_metadata(given_saml, fetched_metadata, saml, rt.clock.now(), violations)
            checked = _check_saml({**(imported.fields if imported else {}), **given_saml}, env, current, violations)
            saml = _merge(saml, checked, _saml_defaults())
            saml = _merge(saml, imported.facts if imported else {}, {})
            values["saml_config"] = saml
    if changes.get("oidc_config") is not None:
        if current.type is not ConnectionType.OIDC:
            violations.append(FieldViolation("oidc_config", "a SAML connection takes saml_config, not oidc_config"))
        else:
            given = _check_oidc(rt, conn, changes["oidc_config"], env, current.id, violations)
            oidc = _merge(oidc, given, _oidc_defaults())
            values["oidc_config"] = oidc
    if changes.get("attribute_mapping") is not None:
        values["attribute_mapping"] = _check_mapping(changes["attribute_mapping"], violations)
    if violations:
        raise invalid(violations)
    if "oidc_config" in values and any(name in changes["oidc_config"] for name in OIDC_URL_FIELDS):
        _require_provider_check(provider_check, oidc)
    if current.enabled:
        candidate = replace(current, saml_config=saml, oidc_config=oidc)
        missing = missing_for_enable(candidate)
        if missing:
            raise ApiError(
                400,
                "an enabled connection must stay complete: disable it before removing " + ", ".join(missing),
                [
                    FieldViolation(_config_field(current, name), "is required while the connection is enabled")
                    for name in missing
                ],
            )
    if values:
        conn.execute(
            update(connections).where(connections.c.id == current.id).values(**values, update_time=rt.clock.now())
        )
    return get_connection(conn, env.id, connection_id)


def set_enabled(
    rt: Runtime,
    conn: Connection,
    env: Environment,
    connection_id: str,
    enabled: bool,
    *,
    org_id: str | None = None,
    provider_check: ProviderCheck | None = None,
) -> SsoConnection:
    """Enabling an OIDC connection needs `provider_check` (connection_checks.check_before_enable), so a bad
    issuer is a 400 now, not a failed login later."""
    current = get_connection(conn, env.id, connection_id, org_id)
    if enabled:
        missing = missing_for_enable(current)
        if missing:
            raise ApiError(
                400,
                "the connection cannot be enabled until it has " + ", ".join(missing),
                [
                    FieldViolation(_config_field(current, name), "is required to enable the connection")
                    for name in missing
                ],
            )
        if current.type is ConnectionType.OIDC:
            _require_provider_check(provider_check, current.oidc_config)
    if current.enabled == enabled:
        return current
    now = rt.clock.now()
    conn.execute(update(connections).where(connections.c.id == current.id).values(enabled=enabled, update_time=now))
    changed = get_connection(conn, env.id, connection_id)
    _emit(conn, "organization.sso_enabled" if enabled else "organization.sso_disabled", changed, now)
    return changed


def delete_connection(
    rt: Runtime, conn: Connection, env_id: str, connection_id: str, *, org_id: str | None = None
) -> None:
    current = get_connection(conn, env_id, connection_id, org_id)
    conn.execute(delete(connections).where(connections.c.id == current.id))
    _emit(conn, "organization.sso_deleted", current, rt.clock.now())
