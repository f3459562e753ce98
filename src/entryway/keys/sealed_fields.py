"""Every place a sealed value is stored, so `entryway keys rotate-master` can re-seal all of them.

A feature that stores a new sealed value adds it here (tests/keys/test_master_rotation.py fails while a binary
column of the schema is neither listed here nor named in NOT_SEALED, and while a `.seal(` call, wherever its value
is stored, is not listed in its SEAL_CALL_SITES). Each entry reads a row's sealed bytes and context and writes
replacement bytes; the rotation does the read and the write in one transaction with the row locked.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Row, Table, select, update

from entryway.store.tables import (
    connections,
    idempotency_keys,
    installation_secrets,
    portal_test_logins,
    signing_keys,
    upstream_id_tokens,
    webhook_endpoints,
)

OIDC_SECRET_KEY = "client_secret_sealed"  # services/connections.py SEALED_SECRET_KEY


@dataclass(frozen=True)
class SealedField:
    name: str
    table: Table
    key: Column[Any]
    columns: tuple[Column[Any], ...]
    read: Callable[[Row[Any]], bytes | None]
    context: Callable[[Row[Any]], str]
    replacement: Callable[[Row[Any], bytes], dict[str, Any]]

    def select_batch(self, after: str | None, limit: int) -> Any:
        query = select(self.key, *self.columns).order_by(self.key).limit(limit)
        return query.where(self.key > after) if after is not None else query

    def lock_row(self, conn: Connection, key: str) -> Row[Any] | None:
        query = select(self.key, *self.columns).where(self.key == key)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).one_or_none()

    def write(self, conn: Connection, key: str, values: dict[str, Any]) -> None:
        conn.execute(update(self.table).where(self.key == key).values(**values))


def _oidc_secret(row: Row[Any]) -> bytes | None:
    config = row.oidc_config or {}
    sealed = config.get(OIDC_SECRET_KEY)
    return base64.b64decode(sealed) if sealed else None


def _oidc_replacement(row: Row[Any], sealed: bytes) -> dict[str, Any]:
    return {"oidc_config": {**row.oidc_config, OIDC_SECRET_KEY: base64.b64encode(sealed).decode()}}


def _alone_in(column: Column[Any], key: Column[Any], purpose: str, name: str) -> SealedField:
    """A sealed value stored alone in `column`, sealed under the context `<purpose>:<the row's key>`."""
    return SealedField(
        name,
        column.table,
        key,
        (column,),
        lambda row: getattr(row, column.name),
        lambda row: f"{purpose}:{getattr(row, key.name)}",
        lambda row, sealed: {column.name: sealed},
    )


SEALED_FIELDS: tuple[SealedField, ...] = (
    _alone_in(signing_keys.c.private_key, signing_keys.c.id, "signing_key", "signing key private keys"),
    SealedField(
        "OIDC connection client secrets",
        connections,
        connections.c.id,
        (connections.c.oidc_config,),
        _oidc_secret,
        lambda row: f"oidc_client_secret:{row.id}",
        _oidc_replacement,
    ),
    _alone_in(webhook_endpoints.c.secret, webhook_endpoints.c.id, "webhook_secret", "webhook signing secrets"),
    _alone_in(
        webhook_endpoints.c.previous_secret,
        webhook_endpoints.c.id,
        "webhook_secret",
        "previous webhook signing secrets",
    ),
    # the context as portal/test_logins.py _seal_context makes it
    _alone_in(
        portal_test_logins.c.sealed_claims,
        portal_test_logins.c.connection_id,
        "portal_test_claims",
        "portal test-login claims",
    ),
    _alone_in(
        upstream_id_tokens.c.sealed_id_token,
        upstream_id_tokens.c.session_id,
        "upstream_id_token",
        "kept upstream ID tokens",
    ),
    _alone_in(installation_secrets.c.value, installation_secrets.c.name, "installation_secret", "installation secrets"),
    # the context as api/idempotency.py seal_context makes it
    _alone_in(
        idempotency_keys.c.sealed_response,
        idempotency_keys.c.id,
        "idempotency_response",
        "remembered Idempotency-Key answers",
    ),
)

# Binary columns that hold no secret (or that hold the wrapped data keys themselves).
NOT_SEALED = {"brand_images.data", "data_keys.wrapped_key"}
