"""Which connector serves a connection: one connector per protocol, chosen by the connection's type."""

from __future__ import annotations

from entryway.connectors.base import Connector
from entryway.connectors.saml.connector import SamlConnector
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import LoginError

_SAML = SamlConnector()


def connector_for(connection: SsoConnection) -> Connector:
    if connection.type is ConnectionType.SAML:
        return _SAML
    raise LoginError(
        "connection_not_active",
        "OIDC connections are not available yet",
        {"wanted": "a SAML connection", "got": f"a {connection.type.value} connection", "connection_id": connection.id},
    )
