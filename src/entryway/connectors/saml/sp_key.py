"""Which of the environment's SAML SP keys does what, at a given moment (keys/rotation.py plans the times).

One key signs (AuthnRequests and LogoutRequests); the SP metadata lists every key in service, so during a
rollover an IdP that re-reads it learns the next key while the current one still signs; decryption tries
every key not yet past its retention, the signing one first, because an IdP may encrypt to any certificate it
was ever given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from entryway.keys.keyring import SigningKey
from entryway.model.connections import ConnectionType
from entryway.runtime import Runtime
from entryway.services.connections import connection_from_row
from entryway.store.tables import connections

PURPOSE = "saml_sp"


def signing_key(rt: Runtime, env_id: str, now: datetime) -> SigningKey:
    return rt.keyring.active(env_id, PURPOSE, now=now)


def metadata_keys(rt: Runtime, env_id: str, now: datetime) -> list[SigningKey]:
    return rt.keyring.published(env_id, PURPOSE, now, retained=False)


def decryption_keys(rt: Runtime, env_id: str, now: datetime) -> list[SigningKey]:
    return rt.keyring.published(env_id, PURPOSE, now, retained=True)


def connections_relying_on_sp_key(conn: Connection, env_id: str) -> list[str]:
    """SAML connections whose IdP verifies the SP's signatures or encrypts to it: each IdP needs the new key.

    They sign AuthnRequests (by choice or because the IdP asks), send LogoutRequests (an SLO URL), or have
    their assertions encrypted. Their IdP must have re-read the SP metadata before the next key signs.
    """
    found = conn.execute(
        select(connections).where(
            connections.c.environment_id == env_id, connections.c.type == ConnectionType.SAML.value
        )
    ).all()
    relying: list[str] = []
    for row in found:
        config = connection_from_row(row).saml_config
        if (
            config.get("want_request_signed") is True
            or config.get("idp_want_authn_requests_signed") is True
            or config.get("assertion_encrypted") is True
            or bool(config.get("idp_slo_url"))
        ):
            relying.append(str(row.id))
    return relying
