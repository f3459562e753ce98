"""The ACS (assertion consumer service): validate a posted SAML Response and finish the login it answers.

Success completes the auth request (single-use code, redirect to the app) in one transaction with the replay
record. Failure is recorded with its diagnosis and sent back to the app when the failed login can be told
apart safely; otherwise the browser sees a branded error page naming the code and the err_ reference.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from lxml import etree
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from entryway.connectors.callback_answers import failed_login
from entryway.connectors.saml import login_sessions
from entryway.connectors.saml.attributes import map_profile
from entryway.connectors.saml.certificates import connection_certificates
from entryway.connectors.saml.decryption import decrypt_assertion
from entryway.connectors.saml.idp_initiated import ensure_allowed, idp_initiated_redirect
from entryway.connectors.saml.parsing import decode_base64, malformed, parse_xml
from entryway.connectors.saml.replay import remember_assertion, replayed
from entryway.connectors.saml.response import envelope, validate_response
from entryway.connectors.saml.sp_key import decryption_keys
from entryway.ids import new_id
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services import logins
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest
from entryway.store.after_commit import transaction
from entryway.store.write_batch import WriteBatch
from entryway.web.redirects import no_store_redirect

MAX_FORM_FIELDS = 16
MAX_RELAY_STATE = 1024
# Expired replay records and SAML sessions are purged by a scheduled job (jobs/login_state.py), not by logins.


def load_connection(rt: Runtime, env: Environment, connection_id: str) -> SsoConnection | None:
    connection = logins.cached_connection(rt, env.id, connection_id)
    if connection is None or connection.type is not ConnectionType.SAML:
        return None
    return connection


def parse_form(body: bytes | None, content_type: str | None) -> dict[str, str]:
    """The ACS form, parsed by hand so its size is bounded before any parsing happens (body None = too big)."""
    if body is None:
        raise malformed(
            "The SAML response is larger than this server accepts",
            "a POST body within the configured size limit",
            "a larger body",
        )
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise malformed(
            "The SAML response must be posted as a form (HTTP-POST binding)",
            "application/x-www-form-urlencoded",
            media_type or "no content type",
        )
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise malformed("The POST body is not a valid form", "a url-encoded form", "an unreadable body") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form and name in ("SAMLResponse", "SAMLRequest", "RelayState"):
            raise malformed(f"The form repeats {name}", f"one {name}", f"several {name} fields")
        form[name] = value
    return form


def _may_be_portal_test(rt: Runtime, relay_state: str | None) -> bool:
    """Only a response whose RelayState names a pending portal test login is read for a disabled connection
    (the test is decided again from the signed InResponseTo once the response is verified)."""
    if not relay_state:
        return False
    with rt.engine.connect() as db:
        request = logins.get_auth_request(db, relay_state)
    return request is not None and request.client_id == logins.PORTAL_TEST_CLIENT and request.status == "pending"


def finish_login(
    rt: Runtime,
    env: Environment,
    connection_id: str,
    body: bytes | None,
    content_type: str | None,
    client_ip: str | None,
) -> Response:
    """Handle one POST to the ACS. Never raises for any input: every failure is a LoginError, recorded."""
    connection = load_connection(rt, env, connection_id)
    relay_state: str | None = None
    request: AuthRequest | None = None  # set once the signed InResponseTo has named it
    in_response_to: str | None = None  # the unsigned envelope's claim, used only to route a failure
    try:
        form = parse_form(body, content_type)
        relay_state = form.get("RelayState") or None
        if relay_state is not None and len(relay_state) > MAX_RELAY_STATE:
            # It travels on into a URL (the app redirect, or the IdP-initiated token): keep it URL-sized.
            raise malformed(
                "The RelayState is too long", f"at most {MAX_RELAY_STATE} characters", f"{len(relay_state)}"
            )
        if connection is None:
            raise LoginError.wanted_got(
                "invalid_connection_id",
                "This ACS URL names no SAML connection of this environment",
                "a SAML connection of " + env.id,
                connection_id,
            )
        if not connection.enabled and not _may_be_portal_test(rt, relay_state):
            logins.check_connection_active(connection, None)
        encoded = form.get("SAMLResponse")
        if not encoded:
            raise malformed("The POST carries no SAMLResponse", "a SAMLResponse form field", "none")
        root = parse_xml(decode_base64(encoded), what="SAML response")
        in_response_to = envelope(root).in_response_to
        assertion = validate_response(
            root,
            connection,
            connection_certificates(rt, connection),
            now=rt.clock.now(),
            skew_seconds=rt.settings.clock_skew_seconds,
            decrypt=lambda encrypted: _decrypt(rt, env, encrypted),
        )
        if assertion.in_response_to is None:
            logins.check_connection_active(connection, None)
            ensure_allowed(connection)
            profile = map_profile(assertion, connection.attribute_mapping, _required(connection))
            return no_store_redirect(
                idp_initiated_redirect(rt, env, connection, assertion, profile, relay_state, client_ip)
            )
        profile = map_profile(assertion, connection.attribute_mapping, _required(connection))
        session_id = new_id("ses")
        # One transaction: find the login the signed InResponseTo answers, then one write batch (one statement on
        # PostgreSQL) remembers the assertion and finishes the login if it is still pending (store/write_batch.py).
        try:
            with transaction(rt.engine) as db:
                request = _answered_request(db, env, connection, assertion.in_response_to, relay_state)
                logins.check_connection_active(connection, request)
                writes = WriteBatch()
                remember_assertion(writes, assertion.assertion_id, connection.id, assertion.retain_until)
                url = logins.complete_login(rt, writes, request, connection, profile, client_ip, session_id=session_id)
                login_sessions.record_session(
                    writes,
                    session_id=session_id,
                    environment_id=env.id,
                    connection_id=connection.id,
                    assertion=assertion,
                    now=rt.clock.now(),
                )
                completed = writes.execute_in(db)
        except IntegrityError as exc:
            raise replayed(connection.id) from exc
        if not completed:
            raise logins.already_completed()
        return no_store_redirect(url)
    except LoginError as error:
        if request is None and connection is not None:
            request = _failed_request(rt, env, connection, relay_state, in_response_to)
        return failed_login(rt, env, error, request=request, connection=connection, client_ip=client_ip)


def _decrypt(rt: Runtime, env: Environment, encrypted: etree._Element) -> etree._Element:
    keys = decryption_keys(rt, env.id, rt.clock.now())
    if not keys:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "This environment has no SAML SP key to decrypt assertions with",
            "an active SAML SP key",
            "none",
        )
    return decrypt_assertion(encrypted, keys)


def _required(connection: SsoConnection) -> list[str]:
    required = connection.saml_config.get("required_attributes")
    return [str(f) for f in required] if isinstance(required, list) else []


def _answered_request(
    db: Connection, env: Environment, connection: SsoConnection, in_response_to: str, relay_state: str | None
) -> AuthRequest:
    request = logins.find_by_upstream_request(db, in_response_to)
    if request is None or request.environment_id != env.id:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The response answers no login request of this environment: start the sign-in again",
            "the ID of an AuthnRequest Entryway sent",
            "an unknown InResponseTo",
            connection_id=connection.id,
        )
    if relay_state != request.id:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The RelayState does not belong to the login request the response answers",
            "RelayState = the auth request's ID",
            "a different RelayState" if relay_state else "no RelayState",
            auth_request_id=request.id,
        )
    if request.connection_id != connection.id:
        raise LoginError.wanted_got(
            "invalid_saml_response",
            "The response came through another connection than the login started on",
            request.connection_id,
            connection.id,
        )
    return request


def _failed_request(
    rt: Runtime,
    env: Environment,
    connection: SsoConnection,
    relay_state: str | None,
    in_response_to: str | None,
) -> AuthRequest | None:
    """The login a failed response belongs to, when RelayState and the InResponseTo both point at it.

    Neither is authenticated, so this only routes the error back to the app the login came from (whose
    redirect URI is registered) and fails a login that both the browser and the IdP named.
    """
    if not relay_state or not in_response_to:
        return None
    with rt.engine.connect() as db:
        request = logins.get_auth_request(db, relay_state)
    if (
        request is None
        or request.environment_id != env.id
        or request.connection_id != connection.id
        or request.upstream_request_id != in_response_to
        or request.status != "pending"
    ):
        return None
    return request
