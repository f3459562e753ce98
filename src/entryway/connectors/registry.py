"""Which connector serves a connection: one connector per protocol, chosen by the connection's type."""

from __future__ import annotations

from entryway.connectors.base import Connector
from entryway.connectors.oidc.connector import OidcConnector
from entryway.connectors.saml.connector import SamlConnector
from entryway.model.connections import ConnectionType, SsoConnection

_SAML = SamlConnector()
_OIDC = OidcConnector()


def connector_for(connection: SsoConnection) -> Connector:
    if connection.type is ConnectionType.OIDC:
        return _OIDC
    return _SAML
