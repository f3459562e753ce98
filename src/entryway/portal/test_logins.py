"""The portal's "test connection": a real login through the connection that ends on a portal page, not in the app.

It is an ordinary auth request (so the connectors, their checks and the auth log are the ones real logins use)
whose client is `PORTAL_TEST_CLIENT` — a client no app can authenticate as — and whose redirect URI is the
portal's result page. The login's single-use code is redeemed here, by the portal, for the profile; a failed
login comes back with its `err_…` reference, whose recorded diagnosis (wanted / got) the page shows.

The newest test's claims are kept, sealed under the master key (they describe a person), in
`portal_test_logins`, so the attribute-mapping editor can preview a mapping against them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from entryway.connectors.oidc.attributes import map_profile as map_oidc_profile
from entryway.connectors.registry import connector_for
from entryway.connectors.saml.attributes import map_profile as map_saml_profile
from entryway.connectors.saml.response import VerifiedAssertion
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.profile import Profile
from entryway.runtime import Runtime
from entryway.services import auth_log, logins
from entryway.services.auth_log import AuthEvent
from entryway.services.environments import Environment
from entryway.services.logins import PORTAL_TEST_CLIENT, AuthRequest, hash_code
from entryway.store.after_commit import transaction
from entryway.store.tables import auth_codes, auth_events, portal_test_logins


def result_url(env: Environment, connection_id: str) -> str:
    return f"{env.url}/portal/connections/{connection_id}/test/result"


def start(rt: Runtime, env: Environment, connection: SsoConnection) -> AuthRequest:
    """Store the test's auth request and remember it as the connection's newest test."""
    with transaction(rt.engine) as conn:
        request = logins.create_auth_request(
            rt,
            conn,
            env=env,
            client_id=PORTAL_TEST_CLIENT,
            redirect_uri=result_url(env, connection.id),
            scope="openid profile email",
            state=secrets.token_urlsafe(24),
            nonce=None,
            code_challenge=None,
            code_challenge_method=None,
            connection=connection,
            login_hint=None,
            upstream_request_id=connector_for(connection).new_upstream_id(),
        )
        conn.execute(delete(portal_test_logins).where(portal_test_logins.c.connection_id == connection.id))
        conn.execute(
            insert(portal_test_logins).values(
                connection_id=connection.id,
                environment_id=env.id,
                auth_request_id=request.id,
                sealed_claims=None,
                create_time=rt.clock.now(),
            )
        )
    return request


@dataclass(frozen=True)
class LoginTestOutcome:
    request: AuthRequest | None
    profile: Profile | None = None
    failure: AuthEvent | None = None
    problem: str | None = None  # why there is nothing to show (a stale or foreign result URL)


def _newest_request(conn: Connection, connection: SsoConnection) -> AuthRequest | None:
    row = conn.execute(
        select(portal_test_logins.c.auth_request_id).where(portal_test_logins.c.connection_id == connection.id)
    ).first()
    return logins.get_auth_request(conn, row.auth_request_id) if row is not None else None


def _failure(conn: Connection, request_id: str) -> AuthEvent | None:
    row = conn.execute(
        select(auth_events)
        .where(auth_events.c.auth_request_id == request_id, auth_events.c.status == auth_log.FAILED)
        .order_by(auth_events.c.create_time.desc())
    ).first()
    return auth_log.event_of(row) if row is not None else None


def finish(rt: Runtime, env: Environment, connection: SsoConnection, params: dict[str, str]) -> LoginTestOutcome:
    """Read the result the login brought back to the portal (code or error), for the connection's newest test."""
    with rt.engine.begin() as conn:
        request = _newest_request(conn, connection)
        if request is None or request.state != params.get("state"):
            return LoginTestOutcome(
                request, problem="This result belongs to an older or another test: run the test again."
            )
        code = params.get("code")
        if not code:
            return LoginTestOutcome(request, failure=_failure(conn, request.id))
        row = conn.execute(
            select(auth_codes).where(
                auth_codes.c.code_hash == hash_code(code),
                auth_codes.c.auth_request_id == request.id,
                auth_codes.c.client_id == PORTAL_TEST_CLIENT,
            )
        ).first()
        if row is None:
            return LoginTestOutcome(request, problem="The test's result is not valid: run the test again.")
        used = conn.execute(
            update(auth_codes)
            .where(auth_codes.c.code_hash == row.code_hash, auth_codes.c.used_time.is_(None))
            .values(used_time=rt.clock.now())
        )
        profile = Profile.from_dict(row.profile)
        if used.rowcount == 1:
            claims = source_claims(profile, connection.attribute_mapping)
            sealed = rt.sealer.seal(json.dumps(claims).encode(), context=_seal_context(connection.id), conn=conn)
            conn.execute(
                update(portal_test_logins)
                .where(portal_test_logins.c.connection_id == connection.id)
                .values(sealed_claims=sealed)
            )
    return LoginTestOutcome(request, profile=profile)


def _seal_context(connection_id: str) -> str:
    return f"portal_test_claims:{connection_id}"


def source_claims(profile: Profile, mapping: dict[str, str]) -> dict[str, Any]:
    """The attributes (or claims) the IdP sent, rebuilt from the profile and the mapping that made it."""
    claims: dict[str, Any] = dict(profile.raw_attributes)
    for field_name, attribute in mapping.items():
        if not attribute:
            continue
        if field_name == "email":
            claims[attribute] = profile.email
        elif field_name == "groups" and profile.groups is not None:
            claims[attribute] = list(profile.groups)
        elif hasattr(profile, field_name) and field_name not in ("subject", "raw_attributes", "custom_attributes"):
            value = getattr(profile, field_name)
            if value is not None:
                claims[attribute] = value
        elif field_name in profile.custom_attributes:
            claims[attribute] = profile.custom_attributes[field_name]
    return {"subject": profile.subject, "claims": claims}


def last_claims(rt: Runtime, connection: SsoConnection) -> dict[str, Any] | None:
    with rt.engine.connect() as conn:
        sealed = conn.execute(
            select(portal_test_logins.c.sealed_claims).where(portal_test_logins.c.connection_id == connection.id)
        ).scalar()
    if not sealed:
        return None
    data: dict[str, Any] = json.loads(rt.sealer.open(sealed, context=_seal_context(connection.id)))
    return data


def preview(connection: SsoConnection, mapping: dict[str, str], source: dict[str, Any]) -> Profile:
    """The profile `mapping` would make of the last test login's attributes; LoginError if it would fail."""
    claims: dict[str, Any] = source["claims"]
    if connection.type is ConnectionType.OIDC:
        return map_oidc_profile({**claims, "sub": source["subject"]}, mapping, connection.provider)
    assertion = VerifiedAssertion(
        assertion_id="preview",
        in_response_to=None,
        retain_until=None,  # type: ignore[arg-type]  # not used by the mapping
        name_id=source["subject"],
        name_id_format=None,
        session_index=None,
        attributes={k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in claims.items()},
    )
    required = connection.saml_config.get("required_attributes") or ()
    return map_saml_profile(assertion, mapping, list(required))
