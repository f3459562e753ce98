"""Checklist rules on the environment's type, the app's credentials and its client secrets."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from entryway.checklist.findings import Finding, Inputs, failed, passed, warned
from entryway.model.environments import MAX_APP_SECRETS, EnvironmentType
from entryway.services import credentials, environments
from entryway.store.tables import client_secrets

SECRET_MAX_AGE = timedelta(days=365)
UNUSED_GRACE = timedelta(days=30)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def environment_type(i: Inputs) -> Finding:
    title = "Production environment"
    if i.env.type is EnvironmentType.PRODUCTION:
        return passed("environment_type", title, f"{i.env.id} is a production environment")
    return failed(
        "environment_type",
        title,
        f"{i.env.id} is a development environment: localhost redirect URIs, wildcards and the IdP simulator "
        "are allowed in it",
        "Create a production environment (`entryway env create --type production --url https://…`) and give "
        "your production app its credentials",
    )


def app_credentials(i: Inputs) -> Finding:
    """The app's .env names this environment and its app client, and its secret is an active one."""
    title = "App credentials"
    rule = "app_credentials"
    app_client = environments.app_client_id(i.conn, i.env.id)
    if i.app_env is not None:
        problems: list[str] = []
        env_url = (i.app_env.env_url or "").rstrip("/")
        # Either of the environment's URLs is its own (its URL, or its verified custom domain): the custom-domain
        # rule says which one the app should use.
        if env_url not in (i.env.url, *i.env.issuers):
            problems.append(
                f"ENTRYWAY_ENV_URL is {i.app_env.env_url or '(unset)'!r}, this environment is {i.env.public_url}"
            )
        if i.app_env.client_id != app_client:
            other = credentials.get_client(i.conn, i.app_env.client_id) if i.app_env.client_id else None
            where = f" (a client of {other.environment_id})" if other is not None else ""
            problems.append(
                f"ENTRYWAY_CLIENT_ID is {i.app_env.client_id or '(unset)'!r}{where}, this environment's app "
                f"client is {app_client}"
            )
        elif not i.app_env.client_secret:
            problems.append("ENTRYWAY_CLIENT_SECRET is not set")
        elif not _secret_is_active(i, app_client, i.app_env.client_secret):
            problems.append("ENTRYWAY_CLIENT_SECRET is not an active, unexpired secret of the app client")
        if problems:
            return failed(
                rule,
                title,
                "; ".join(problems),
                "Put this environment's URL, client ID and an active secret in the app's .env "
                "(dashboard → Credentials shows the first two; generate a secret there)",
            )
        return passed(rule, title, "the app's .env names this environment, its app client and an active secret")
    if i.caller_client_id is not None:
        if i.caller_client_id == app_client:
            return passed(rule, title, "checked with the app client's own credentials, issued by this environment")
        return warned(
            rule,
            title,
            f"asked by API client {i.caller_client_id}, so the app's own credentials were not checked",
            "Call the checklist with the app's credentials, or run `entryway check --app-env path/to/.env`",
        )
    used = [
        s
        for s in credentials.list_secrets(i.conn, app_client)
        if s.status == "ACTIVE" and s.last_used_time is not None and i.now - s.last_used_time < UNUSED_GRACE
    ]
    if used:
        return passed(rule, title, f"an app used this environment's client secret …{used[0].secret_suffix} recently")
    return warned(
        rule,
        title,
        "no app has used this environment's credentials in the last 30 days",
        "Put ENTRYWAY_ENV_URL, ENTRYWAY_CLIENT_ID and a secret of this environment in the production app's .env, "
        "or run `entryway check --app-env path/to/.env` to compare them",
    )


def _secret_is_active(i: Inputs, client_id: str, plain: str) -> bool:
    row = i.conn.execute(
        select(client_secrets).where(
            client_secrets.c.client_id == client_id,
            client_secrets.c.secret_hash == credentials.hash_secret(plain),
        )
    ).first()
    if row is None or row.status != "ACTIVE":
        return False
    return row.expire_time is None or row.expire_time > i.now


def client_secrets_rule(i: Inputs) -> Finding:
    """Stored hashed; at least one active; none expired yet active, stale, unused, or left over from a rotation."""
    title = "Client secrets"
    rule = "client_secrets"
    app_client = environments.app_client_id(i.conn, i.env.id)
    stored = i.conn.execute(
        select(client_secrets.c.id, client_secrets.c.secret_hash).where(client_secrets.c.client_id == app_client)
    ).all()
    plain = [r.id for r in stored if not _DIGEST.match(r.secret_hash)]
    if plain:
        return failed(
            rule,
            title,
            f"secret(s) {', '.join(plain)} are not stored as a SHA-256 digest",
            "Delete them and generate new secrets (Entryway only ever stores a digest)",
        )
    secrets = credentials.list_secrets(i.conn, app_client)
    active = [s for s in secrets if s.status == "ACTIVE" and (s.expire_time is None or s.expire_time > i.now)]
    if not active:
        return failed(
            rule,
            title,
            "the app client has no active, unexpired secret: the app cannot log anyone in",
            "Generate a secret (dashboard → Credentials, or `entryway secrets create`) and put it in the app's .env",
        )
    if len(active) > MAX_APP_SECRETS:
        return failed(
            rule,
            title,
            f"{len(active)} secrets are active (…{', …'.join(s.secret_suffix for s in active)}): more than the "
            f"rotation pair of {MAX_APP_SECRETS} Entryway allows, so a leaked one is easily overlooked",
            "Deactivate and delete every secret but the one the app uses (and its successor during a rotation)",
        )
    warnings: list[str] = []
    kept = [s for s in secrets if s.status != "ACTIVE"]
    if len(secrets) > MAX_APP_SECRETS and kept:
        warnings.append(
            f"{len(secrets)} secrets are listed, more than the rotation pair: deactivated "
            + ", ".join(f"…{s.secret_suffix}" for s in kept)
            + " should be deleted"
        )
    expired = [s for s in secrets if s.status == "ACTIVE" and s.expire_time is not None and s.expire_time <= i.now]
    warnings += [f"…{s.secret_suffix} expired on {s.expire_time:%Y-%m-%d} but is still listed" for s in expired]
    warnings += [
        f"…{s.secret_suffix} is {(i.now - s.create_time).days} days old"
        for s in active
        if i.now - s.create_time > SECRET_MAX_AGE
    ]
    warnings += [
        f"…{s.secret_suffix} has never been used in {(i.now - s.create_time).days} days"
        for s in active
        if s.last_used_time is None and i.now - s.create_time > UNUSED_GRACE
    ]
    if len(active) == 2:
        older, newer = sorted(active, key=lambda s: s.create_time)
        if newer.last_used_time is not None and (
            older.last_used_time is None or older.last_used_time < newer.last_used_time - UNUSED_GRACE
        ):
            warnings.append(
                f"a rotation is unfinished: …{newer.secret_suffix} is in use and …{older.secret_suffix} is not"
            )
    if warnings:
        return warned(
            rule,
            title,
            "; ".join(warnings),
            "Rotate: generate a new secret, deploy it, then deactivate and delete the old one "
            "(dashboard → Credentials); delete expired and unused secrets",
        )
    return passed(rule, title, f"{len(active)} active secret(s), hashed, in use and under a year old")
