"""Reading an OIDC connection's IdP (discovery document and signing keys) before its settings are saved or
the connection is enabled, and on request (`:check`), so a wrong issuer is an answer to the admin who typed
it, not a failed login for a user later.

The network is read here, outside any database transaction (a slow IdP must not hold a connection or a
lock); the write transaction then accepts the check only for the exact URL values it read
(`ProviderCheck.source`), so a concurrent change in between is a 409, never an unchecked save.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from entryway.connectors.oidc.connector import allow_http
from entryway.connectors.oidc.discovery import (
    URL_FIELDS,
    ProviderCheck,
    discover,
    needs_provider,
    settings_source,
)
from entryway.connectors.oidc.fetch import FetchError
from entryway.connectors.oidc.jwks import fetch_key_set
from entryway.model.connections import ConnectionType
from entryway.model.errors import ApiError, FieldViolation
from entryway.runtime import Runtime
from entryway.services.connections import get_connection, url_problems
from entryway.services.environments import Environment

log = logging.getLogger("entryway.oidc.check")


def _described(exc: FetchError) -> str:
    wanted, got = exc.diagnosis.get("wanted"), exc.diagnosis.get("got")
    if wanted is None and got is None:
        return exc.message
    return f"{exc.message} (wanted {wanted}, got {got})"


def _source_field(config: Mapping[str, Any]) -> str:
    return "oidc_config.discovery_endpoint" if config.get("discovery_endpoint") else "oidc_config.issuer"


def _refusal(status: int, field: str, exc: FetchError) -> ApiError:
    log.warning("OIDC IdP check failed on %s: %s %s", field, exc.message, exc.diagnosis)
    return ApiError(
        status, f"The IdP's OIDC configuration cannot be used: {exc.message}", [FieldViolation(field, _described(exc))]
    )


def check_oidc_settings(
    rt: Runtime, env: Environment, config: Mapping[str, Any], *, status: int = 400
) -> ProviderCheck:
    """Read the IdP that `config` names: its discovery document (or the endpoints typed in) and its JWKS.

    Raises ApiError(status) naming the field to fix, with what was wanted and what was got.
    """
    settings = dict(config)
    try:
        provider = discover(rt, settings, allow_http=allow_http(rt, env))
    except FetchError as exc:
        raise _refusal(status, _source_field(settings), exc) from exc
    keys_field = "oidc_config.jwks_uri" if settings.get("jwks_uri") else _source_field(settings)
    try:
        key_set = fetch_key_set(rt, provider.jwks_uri)
    except FetchError as exc:
        raise _refusal(status, keys_field, exc) from exc
    if not key_set.keys:
        raise _refusal(
            status,
            keys_field,
            FetchError(
                "The IdP's JWKS holds no signing key Entryway can use",
                {"wanted": "at least one RSA or EC signing key", "got": "none", "url": provider.jwks_uri},
            ),
        )
    return ProviderCheck(settings_source(settings), provider, len(key_set.keys))


def _url_values_ok(given: Mapping[str, Any], env: Environment) -> bool:
    # Malformed URLs are reported by the service's field checks, all at once; fetching them would say less.
    return all(value is None or not url_problems(value, env) for name, value in given.items() if name in URL_FIELDS)


def check_before_create(rt: Runtime, env: Environment, type_: Any, oidc_config: Any) -> ProviderCheck | None:
    """The check a new OIDC connection's settings need, or None (not OIDC, no IdP named yet, or bad input)."""
    if str(getattr(type_, "value", type_)) != ConnectionType.OIDC.value or not isinstance(oidc_config, Mapping):
        return None
    if not needs_provider(dict(oidc_config)) or not _url_values_ok(oidc_config, env):
        return None
    return check_oidc_settings(rt, env, oidc_config)


def check_before_update(
    rt: Runtime, env: Environment, connection_id: str, changes: Mapping[str, Any], *, org_id: str | None = None
) -> ProviderCheck | None:
    """The check a PATCH needs when it changes where the IdP is read from (issuer, discovery or endpoints)."""
    given = changes.get("oidc_config")
    if not isinstance(given, Mapping) or not any(name in given for name in URL_FIELDS):
        return None
    with rt.engine.connect() as db:
        current = get_connection(db, env.id, connection_id, org_id)
    if current.type is not ConnectionType.OIDC or not _url_values_ok(given, env):
        return None
    merged = {**current.oidc_config, **{k: v for k, v in given.items() if k in URL_FIELDS}}
    merged = {k: v for k, v in merged.items() if v is not None}
    return check_oidc_settings(rt, env, merged) if needs_provider(merged) else None


def check_before_enable(
    rt: Runtime, env: Environment, connection_id: str, *, org_id: str | None = None
) -> ProviderCheck | None:
    with rt.engine.connect() as db:
        current = get_connection(db, env.id, connection_id, org_id)
    if current.type is not ConnectionType.OIDC or not needs_provider(current.oidc_config):
        return None  # an incomplete connection is refused by set_enabled, naming what is missing
    return check_oidc_settings(rt, env, current.oidc_config)


def check_stored(rt: Runtime, env: Environment, connection_id: str, *, org_id: str | None = None) -> ProviderCheck:
    """`:check`: read the IdP of a stored OIDC connection now; 422 when its stored settings do not work."""
    with rt.engine.connect() as db:
        current = get_connection(db, env.id, connection_id, org_id)
    if current.type is not ConnectionType.OIDC:
        raise ApiError(
            422,
            "Only OIDC connections are checked this way",
            [FieldViolation("type", "is SAML: test a SAML connection by signing in through it")],
        )
    if not needs_provider(current.oidc_config):
        raise ApiError(
            422,
            "The connection names no IdP yet",
            [FieldViolation("oidc_config.issuer", "is required: set issuer or discovery_endpoint")],
        )
    return check_oidc_settings(rt, env, current.oidc_config, status=422)
