"""Checklist rules on how Entryway itself runs: database, master key, https, signing keys, IdP certificates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from entryway.checklist.findings import Finding, Inputs, failed, passed, warned
from entryway.keys.keyring import KeyRow, signer
from entryway.model.connections import ConnectionType
from entryway.services.connections import certificate_facts, list_connections
from entryway.store.tables import signing_keys

KEY_ROTATE_AFTER = timedelta(days=180)
KEY_OVERDUE_AFTER = timedelta(days=365)
# The SP key is rotated less often: IdPs that encrypt assertions to it or verify signed requests need new metadata.
SP_KEY_ROTATE_AFTER = timedelta(days=730)
CERT_WARN_BEFORE = timedelta(days=30)


def database(i: Inputs) -> Finding:
    title = "Database"
    if i.conn.dialect.name == "postgresql":
        return passed("database", title, "PostgreSQL")
    return failed(
        "database",
        title,
        f"{i.conn.dialect.name}: one file on one machine, so instances cannot share it and a lost disk loses "
        "every connection",
        "Set ENTRYWAY_DATABASE_URL=postgresql+psycopg://… and run `entryway migrate`",
    )


def master_key(i: Inputs) -> Finding:
    title = "Master key"
    settings = i.rt.settings
    key_file = settings.master_key_file
    if key_file is None:
        return passed("master_key", title, "set by ENTRYWAY_MASTER_KEY, not stored with the data")
    if _inside(key_file, settings.data_dir):
        return failed(
            "master_key",
            title,
            f"read from {key_file}, inside the data directory: a copy of the data carries the key that "
            "decrypts its secrets",
            "Move the key to a secret store and set ENTRYWAY_MASTER_KEY from it; delete the file",
        )
    return passed("master_key", title, f"read from {key_file}, outside the data directory")


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def https_url(i: Inputs) -> Finding:
    title = "HTTPS environment URL"
    if i.env.url.startswith("https://"):
        return passed("https_url", title, i.env.url)
    return failed(
        "https_url",
        title,
        f"{i.env.url} is not https: codes, tokens and session cookies would cross the network in the clear",
        "Serve Entryway behind TLS and use an https environment URL (a verified custom domain)",
    )


def signing_keys_rule(i: Inputs) -> Finding:
    """The token-signing key (oidc) by age; the SAML SP key (signs AuthnRequests, decrypts assertions) by age and
    by its certificate's validity, which IdPs that verify signed requests or encrypt to it check."""
    title = "Signing key age"
    rows = i.conn.execute(select(signing_keys).where(signing_keys.c.environment_id == i.env.id)).all()
    keys = [KeyRow(r.id, r.purpose, r.status, r.public_jwk, r.activate_time, r.retire_time) for r in rows]
    current = signer(keys, "oidc", i.now)
    if current is None:
        return failed("signing_keys", title, "no key signs tokens now", "Run `entryway keys rotate`")
    fails: list[str] = []
    warns: list[str] = []
    fixes: list[str] = []
    age = i.now - _since(rows, current)
    pending = any(k.purpose == "oidc" and k.activate_time is not None and k.activate_time > i.now for k in keys)
    if not pending and age > KEY_OVERDUE_AFTER:
        fails.append(f"{current.kid} has signed tokens for {age.days} days (over a year)")
    elif not pending and age > KEY_ROTATE_AFTER:
        warns.append(f"{current.kid} has signed tokens for {age.days} days (rotate every 180)")
    if fails or warns:
        fixes.append("Run `entryway keys rotate` (the new key is published at once and signs after the grace period)")
    sp_found = _sp_key_findings(i, rows, keys)
    if sp_found is not None:
        sp_fails, sp_warns = sp_found
        fails += sp_fails
        warns += sp_warns
        if sp_fails or sp_warns:
            fixes.append(
                "Run `entryway keys rotate --purpose saml_sp` and send customers whose IdP verifies signed requests "
                "or encrypts assertions the new SP metadata (docs/key-rotation.md)"
            )
    if fails:
        return failed("signing_keys", title, "; ".join(fails + warns), " ".join(fixes))
    if warns:
        return warned("signing_keys", title, "; ".join(warns), " ".join(fixes))
    return passed("signing_keys", title, f"{current.kid} has signed tokens for {age.days} days")


def _since(rows: Sequence[Any], key: KeyRow) -> datetime:
    created: datetime = next(r.create_time for r in rows if r.id == key.kid)
    return key.activate_time or created


def _sp_key_findings(i: Inputs, rows: Sequence[Any], keys: list[KeyRow]) -> tuple[list[str], list[str]] | None:
    current = signer(keys, "saml_sp", i.now)
    if current is None:
        return None
    fails: list[str] = []
    warns: list[str] = []
    pending = any(k.purpose == "saml_sp" and k.activate_time is not None and k.activate_time > i.now for k in keys)
    age = i.now - _since(rows, current)
    if not pending and age > SP_KEY_ROTATE_AFTER:
        warns.append(
            f"the SAML SP key {current.kid} has signed for {age.days} days (rotate every {SP_KEY_ROTATE_AFTER.days})"
        )
    pem = next(r.certificate_pem for r in rows if r.id == current.kid)
    if pem:
        not_after = certificate_facts(pem).not_after
        if not_after <= i.now:
            fails.append(f"the SAML SP certificate of {current.kid} expired on {not_after:%Y-%m-%d}")
        elif not pending and not_after - i.now <= CERT_WARN_BEFORE:
            warns.append(f"the SAML SP certificate of {current.kid} expires on {not_after:%Y-%m-%d}")
    return fails, warns


def idp_certificates(i: Inputs) -> Finding:
    title = "IdP certificates"
    expired: list[str] = []
    expiring: list[str] = []
    checked = 0
    for c in list_connections(i.conn, i.env.id):
        if c.type is not ConnectionType.SAML or not c.enabled:
            continue
        for pem in c.saml_config.get("idp_certificates") or []:
            checked += 1
            facts = certificate_facts(pem)
            label = f"{c.id} ({facts.subject}, until {facts.not_after:%Y-%m-%d})"
            if facts.not_after <= i.now:
                expired.append(label)
            elif facts.not_after - i.now <= CERT_WARN_BEFORE:
                expiring.append(label)
    fix = (
        "Ask the customer's IT admin for the IdP's new signing certificate and add it to the connection "
        "(both may be listed during the switch), or send them a portal link"
    )
    if expired:
        return failed("idp_certificates", title, "expired: " + "; ".join(expired), fix)
    if expiring:
        return warned("idp_certificates", title, "expiring within 30 days: " + "; ".join(expiring), fix)
    return passed("idp_certificates", title, f"{checked} certificate(s) of enabled SAML connections, none expiring")
