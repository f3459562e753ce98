"""The three values an app keeps in its .env, checked once when a client is made."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from entryway_sdk import arguments
from entryway_sdk.errors import ArgumentError

ENV_URL = "ENTRYWAY_ENV_URL"
CLIENT_ID = "ENTRYWAY_CLIENT_ID"
CLIENT_SECRET = "ENTRYWAY_CLIENT_SECRET"


@dataclass(frozen=True)
class Credentials:
    env_url: str  # also the OIDC issuer, so it is kept without a trailing slash
    client_id: str
    client_secret: str

    @classmethod
    def of(cls, env_url: str, client_id: str, client_secret: str) -> Credentials:
        arguments.url("env_url", env_url)
        arguments.text("client_id", client_id)
        arguments.text("client_secret", client_secret)
        if not client_id.startswith("skc_"):
            raise ArgumentError(f"client_id must be an Entryway client ID (skc_…), not {client_id!r}")
        return cls(env_url.rstrip("/"), client_id, client_secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        source = os.environ if environ is None else environ
        missing = [name for name in (ENV_URL, CLIENT_ID, CLIENT_SECRET) if not source.get(name)]
        if missing:
            raise ArgumentError(f"Set {', '.join(missing)} (the three values `entryway dev` prints for your .env)")
        return cls.of(source[ENV_URL], source[CLIENT_ID], source[CLIENT_SECRET])
