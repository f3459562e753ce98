"""Helpers for OpenID Provider tests: finish a login directly through the services (no IdP needed)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

from entryway.model.profile import Profile
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.bootstrap import DevSeed
from entryway.services.connections import find_connection
from entryway.store.after_commit import transaction
from entryway.store.write_batch import WriteBatch

ENV_URL = "http://localhost:8000"
CALLBACK = "http://localhost:3000/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def jane() -> Profile:
    return Profile(
        subject="00u1jane",
        email="jane@example.com",
        email_verified=True,
        given_name="Jane",
        family_name="Doe",
        groups=["engineering", "admins"],
        custom_attributes={"department": "R&D", "employee_id": "4711", "email": "mallory@evil.example"},
        raw_attributes={"email": ["jane@example.com"], "firstName": ["Jane"], "department": ["R&D"]},
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def issue_code(
    rt: Runtime,
    seed: DevSeed,
    *,
    profile: Profile | None = None,
    client_id: str | None = None,
    redirect_uri: str = CALLBACK,
    state: str | None = "st-1",
    nonce: str | None = "n-0S6_WzA2Mj",
    code_challenge: str | None = None,
) -> str:
    """Create an auth request and complete it as a connector would; return the code the app receives."""
    with transaction(rt.engine) as conn:
        connection = find_connection(conn, seed.environment.id, seed.connection_id)
        assert connection is not None
        request = logins.create_auth_request(
            rt,
            conn,
            env=seed.environment,
            client_id=client_id or seed.client_id,
            redirect_uri=redirect_uri,
            scope="openid profile email",
            state=state,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method="S256" if code_challenge else None,
            connection=connection,
            login_hint=None,
        )
        writes = WriteBatch()
        location = logins.complete_login(rt, writes, request, connection, profile or jane())
        assert writes.execute_in(conn)
    params = query(location)
    assert location.startswith(redirect_uri + "?")
    assert params.get("state") == state
    return params["code"]


def code_form(seed: DevSeed, code: str, **extra: str) -> dict[str, Any]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": seed.client_id,
        "client_secret": seed.plain_secret,
        **extra,
    }


def left_half_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
