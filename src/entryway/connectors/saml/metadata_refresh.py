"""Refreshing a connection's IdP values from its metadata URL, on demand (API, CLI, or a scheduled CLI run).

The fetch happens outside any transaction; the update goes through the same validation as a PATCH, so a
refresh that would leave an enabled connection incomplete (say, metadata without certificates) changes
nothing. Each refresh appends what changed to saml_config.idp_metadata_changes.
"""

from __future__ import annotations

import logging

from entryway.connectors.saml.metadata_import import prefetch
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import FieldViolation, invalid
from entryway.runtime import Runtime
from entryway.services.connections import get_connection, list_connections, update_connection
from entryway.services.environments import Environment

log = logging.getLogger("entryway.saml")


def refresh_metadata(rt: Runtime, env: Environment, connection_id: str, *, org_id: str | None = None) -> SsoConnection:
    with rt.engine.connect() as db:
        current = get_connection(db, env.id, connection_id, org_id)
    if current.type is not ConnectionType.SAML:
        raise invalid([FieldViolation("type", "only SAML connections have IdP metadata")])
    url = current.saml_config.get("idp_metadata_url")
    if not url:
        raise invalid(
            [
                FieldViolation(
                    "saml_config.idp_metadata_url",
                    "the connection has no metadata URL to refresh from: import the IdP metadata by URL first",
                )
            ]
        )
    document = prefetch(rt, allow_http=env.is_development, saml_config={"idp_metadata_url": url})
    with rt.engine.begin() as db:
        changed = update_connection(
            rt, db, env, connection_id, {"saml_config": {"idp_metadata_url": url}}, fetched_metadata=document
        )
    last = (changed.saml_config.get("idp_metadata_changes") or [{}])[-1]
    log.info(
        "refreshed IdP metadata of %s: changed %s, certificates added %s, removed %s",
        connection_id,
        last.get("changed_fields"),
        last.get("certificates_added"),
        last.get("certificates_removed"),
    )
    return changed


def refreshable(rt: Runtime, env: Environment) -> list[str]:
    """The SAML connections of the environment that import their metadata from a URL."""
    with rt.engine.connect() as db:
        found = list_connections(db, env.id)
    return [c.id for c in found if c.type is ConnectionType.SAML and c.saml_config.get("idp_metadata_url")]
