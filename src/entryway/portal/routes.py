"""The admin portal's pages, on the environment URL: thin handlers over the connection, domain and link services.

Every page needs a portal session (opened by a portal link) and acts on that session's organization only;
every POST carries the session's CSRF token (session_guard), and every change is audited.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from entryway.connectors.oidc.client import redirect_uri as oidc_redirect_uri
from entryway.connectors.registry import connector_for
from entryway.connectors.saml.idp_metadata import MAX_METADATA_BYTES
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import ApiError, LoginError
from entryway.portal import checks, test_logins
from entryway.portal.choices import IdpChoice, choice, choice_for, choices
from entryway.portal.pages import framable_error, portal_page
from entryway.runtime import Runtime
from entryway.services import connection_checks, connections, domains, logins, portal_links
from entryway.services.environments import Environment
from entryway.services.portal_links import LinkRefused, LinkType
from entryway.web.pages import error_page
from entryway.web.requests import client_ip, request_environment, runtime
from entryway.web.session_cookies import LiveSession, clear_session_cookie, session_guard, set_session_cookie
from entryway.web.sessions import SessionKind, audit, audit_events, csrf_ok, end_session, find_audit_event

router = APIRouter(prefix="/portal")
PORTAL = session_guard(SessionKind.PORTAL)
MAPPING_FIELDS = ("email", "given_name", "family_name", "name", "preferred_username", "groups")
MAX_CUSTOM_ROWS = 10
# An action's result (and its UI event) is shown on the page the POST redirects to, if that is this recent.
RESULT_WINDOW = timedelta(minutes=2)

_LINK_PAGES = {
    "portal_link_invalid": (
        404,
        "This portal link is not valid",
        "It may be mistyped or cut short by your mail program.",
        "Copy the whole link again. If it still fails, ask the person who sent it for a new link.",
    ),
    "portal_link_expired": (
        410,
        "This portal link has expired",
        "Shareable links work for 7 days; embedded links for 1 minute.",
        "Ask the person who sent it for a new link. Nothing you saved before is lost.",
    ),
    "portal_link_used": (
        410,
        "This portal link was already used",
        "An embedded portal link opens once.",
        "Reload the page of the application that shows the portal: it asks for a new link each time.",
    ),
    "portal_link_revoked": (
        410,
        "This portal link was revoked",
        "The application's administrators withdrew it.",
        "Ask them for a new link. Nothing you saved before is lost.",
    ),
}


# --- opening the portal ------------------------------------------------------------------------------------


@router.get("/links/{token}")
def open_link(request: Request, token: str, env: Environment = Depends(request_environment)) -> Response:
    rt = runtime(request)
    ip = client_ip(request)
    try:
        with rt.engine.begin() as conn:
            link, session, session_token = portal_links.open_link(rt, conn, env, token, ip)
            audit(
                rt,
                conn,
                session,
                "portal_link.opened",
                target=link.id,
                detail={"link_type": link.link_type.value},
                client_ip=ip,
            )
    except LinkRefused as refused:
        status, title, message, hint = _LINK_PAGES[refused.code]
        return framable_error(rt, env.id, error_page(title, message, code=refused.code, status=status, hint=hint))
    response = RedirectResponse("/portal", status_code=303)
    set_session_cookie(
        response,
        env,
        SessionKind.PORTAL,
        session_token,
        session.expire_time,
        embedded=link.link_type is LinkType.EMBEDDABLE,
    )
    return response


@router.post("/signout")
def sign_out(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    with rt.engine.begin() as conn:
        audit(rt, conn, live.session, "portal.signed_out", client_ip=live.client_ip)
        end_session(rt, conn, live.session.id)
    response = framable_error(
        rt,
        live.env.id,
        error_page(
            "You are signed out",
            "Your portal session has ended.",
            code="session_expired",
            status=200,
            hint="Open your portal link again to come back.",
        ),
    )
    clear_session_cookie(response, live.env, SessionKind.PORTAL)
    return response


@cache
def _script() -> bytes:
    return resources.files("entryway.web").joinpath("static/portal.js").read_bytes()


@router.get("/assets/portal.js")
def portal_script() -> Response:
    return Response(
        _script(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


# --- home -------------------------------------------------------------------------------------------------


def _org_connections(rt: Runtime, live: LiveSession) -> list[SsoConnection]:
    with rt.engine.connect() as conn:
        return connections.organization_connections(conn, live.env.id, live.session.subject)


def _recorded_choice(rt: Runtime, live: LiveSession, connection: SsoConnection) -> IdpChoice:
    with rt.engine.connect() as conn:
        made = audit_events(conn, live.env.id, target=connection.id, action="connection.created", limit=1)
    key = made[0].detail.get("choice") if made else None
    return choice_for(connection.type, connection.provider, key if isinstance(key, str) else None)


def _status(connection: SsoConnection) -> str:
    if connection.enabled:
        return "On"
    return "Needs setup" if connections.missing_for_enable(connection) else "Ready to turn on"


def _home(
    rt: Runtime, live: LiveSession, *, result: dict[str, Any] | None = None, domain_error: str | None = None
) -> Response:
    items = [
        {"connection": c, "choice": _recorded_choice(rt, live, c), "status": _status(c)}
        for c in _org_connections(rt, live)
        if c.provider.value != "IDP_SIMULATOR"
    ]
    with rt.engine.connect() as conn:
        org_domains = domains.list_domains(conn, live.env.id, live.session.subject)
    context = {
        "items": items,
        "domains": [{"domain": d, "record": domains.verification_record(d)} for d in org_domains],
        "result": result,
        "domain_error": domain_error,
    }
    status = 400 if domain_error else 200
    return portal_page(
        rt, live, "portal/home.html", context, status=status, events=result["events"] if result else None
    )


@router.get("")
def home(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    return _home(rt, live, result=_result(rt, live, request.query_params.get("done")))


# --- choosing an IdP --------------------------------------------------------------------------------------


@router.get("/connections/new")
def choose(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
    return portal_page(runtime(request), live, "portal/choose.html", {"choices": choices(), "error": None})


@router.post("/connections")
async def create(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    form = await request.form()
    picked = choice(str(form.get("choice") or ""))
    if picked is None:
        context = {"choices": choices(), "error": "Pick your identity provider to continue."}
        return portal_page(rt, live, "portal/choose.html", context, status=400)
    with rt.engine.begin() as conn:
        created = connections.create_connection(
            rt,
            conn,
            live.env,
            live.session.subject,
            type=picked.type,
            provider=picked.provider,
            attribute_mapping=picked.attribute_mapping or None,
            oidc_config={"scopes": list(picked.scopes), "token_auth_type": picked.token_auth_type}
            if picked.type is ConnectionType.OIDC
            else None,
        )
        audit(
            rt,
            conn,
            live.session,
            "connection.created",
            target=created.id,
            detail={"choice": picked.key, "type": picked.type.value, "provider": picked.provider.value},
            client_ip=live.client_ip,
        )
    return RedirectResponse(f"/portal/connections/{created.id}", status_code=303)


# --- one connection ---------------------------------------------------------------------------------------


def _connection(rt: Runtime, live: LiveSession, connection_id: str) -> SsoConnection:
    with rt.engine.connect() as conn:
        return connections.get_connection(conn, live.env.id, connection_id, live.session.subject)


def _sp_values(env: Environment, connection: SsoConnection, picked: IdpChoice) -> list[dict[str, str]]:
    if connection.type is ConnectionType.OIDC:
        values = {"redirect_uri": ("Redirect URI", oidc_redirect_uri(env.url, connection.id))}
    else:
        config = connection.saml_config
        values = {
            "sp_entity_id": ("SP entity ID (audience)", str(config.get("sp_entity_id") or "")),
            "sp_assertion_url": ("ACS URL (reply URL)", str(config.get("sp_assertion_url") or "")),
            "sp_metadata_url": ("SP metadata URL", connections.sp_metadata_url(env.url, connection.id)),
        }
    return [
        {"key": key, "label": label, "value": value, "vendor_label": picked.copy_to_idp.get(key, "")}
        for key, (label, value) in values.items()
    ]


_NEEDED = {
    "idp_entity_id": "the IdP entity ID",
    "idp_sso_url": "the single sign-on URL",
    "idp_certificates": "a signing certificate",
    "issuer": "the issuer URL",
    "client_id": "the client ID",
    "client_secret": "the client secret",
}


def _missing(connection: SsoConnection) -> list[str]:
    """What the connection still lacks before it can be turned on, in the admin's words."""
    return [_NEEDED.get(name, name) for name in connections.missing_for_enable(connection)]


def _mapping_rows(mapping: dict[str, str]) -> list[dict[str, str]]:
    rows = [{"field": f, "attribute": mapping.get(f, ""), "fixed": "yes"} for f in MAPPING_FIELDS]
    rows += [{"field": f, "attribute": a, "fixed": ""} for f, a in mapping.items() if f not in MAPPING_FIELDS]
    rows += [{"field": "", "attribute": "", "fixed": ""}] * 2
    return rows


def _last_test(rt: Runtime, live: LiveSession, connection: SsoConnection) -> dict[str, Any] | None:
    with rt.engine.connect() as conn:
        tests = audit_events(conn, live.env.id, target=connection.id, action="connection.tested", limit=1)
    return tests[0].detail | {"time": tests[0].create_time} if tests else None


def _connection_page(
    rt: Runtime,
    live: LiveSession,
    connection: SsoConnection,
    *,
    report: checks.CheckReport | None = None,
    form: dict[str, str] | None = None,
    mapping_preview: dict[str, Any] | None = None,
    mapping_rows: list[dict[str, str]] | None = None,
    result: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    picked = _recorded_choice(rt, live, connection)
    certificates = [
        checks.certificate_report(pem, rt.clock.now()) for pem in connection.saml_config.get("idp_certificates") or []
    ]
    context = {
        "connection": connection,
        "choice": picked,
        "sp_values": _sp_values(live.env, connection, picked),
        "missing": _missing(connection),
        "certificates": certificates,
        "report": report,
        "form": form or {},
        "mapping_rows": mapping_rows or _mapping_rows(connection.attribute_mapping),
        "mapping_preview": mapping_preview,
        "has_test_claims": test_logins.last_claims(rt, connection) is not None,
        "last_test": _last_test(rt, live, connection),
        "test_url": f"/portal/connections/{connection.id}/test?csrf={live.csrf}",
        "result": result,
        "secret_stored": bool(connection.oidc_config.get(connections.SEALED_SECRET_KEY)),
    }
    events = result["events"] if result else None
    return portal_page(rt, live, "portal/connection.html", context, status=status, events=events)


def _result(rt: Runtime, live: LiveSession, event_id: str | None) -> dict[str, Any] | None:
    """What the POST that redirected here did (a message, and the UI event to post), if it was just now."""
    if not event_id:
        return None
    with rt.engine.connect() as conn:
        event = find_audit_event(conn, event_id)
    if event is None or event.session_id != live.session.id or rt.clock.now() - event.create_time > RESULT_WINDOW:
        return None
    messages = {
        "connection.enabled": "Single sign-on is on: your users can now sign in through this connection.",
        "connection.disabled": "Single sign-on is off for this connection.",
        "connection.configured": "Saved.",
        "mapping.saved": "The attribute mapping is saved.",
        "domain.added": "Domain added: publish the TXT record below, then verify it.",
        "domain.verified": "Domain verified.",
        "domain.deleted": "Domain removed.",
        "connection.deleted": "Connection deleted.",
    }
    ui = {"connection.enabled": "ORGANIZATION_SSO_ENABLED", "connection.disabled": "ORGANIZATION_SSO_DISABLED"}
    events = []
    if event.action in ui:
        data = {"organization_id": live.session.subject, "connection_id": event.target, **event.detail}
        events.append({"type": ui[event.action], "data": data})
    return {"message": messages.get(event.action, "Done."), "events": events, "action": event.action}


@router.get("/connections/{connection_id}")
def connection_page(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    connection = _connection(rt, live, connection_id)
    return _connection_page(rt, live, connection, result=_result(rt, live, request.query_params.get("done")))


def _text(form: FormData, name: str, limit: int = 4096) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _saml_input(form: FormData) -> tuple[dict[str, Any], str | None]:
    """The saml_config the IdP form describes, or a message saying what is missing from it."""
    source = _text(form, "source")
    if source == "url":
        url = _text(form, "idp_metadata_url")
        return ({"idp_metadata_url": url}, None) if url else ({}, "Enter the IdP's metadata URL.")
    if source == "xml":
        xml = form.get("idp_metadata_xml")
        text = xml.strip() if isinstance(xml, str) else ""
        return ({"idp_metadata_xml": text}, None) if text else ({}, "Paste the IdP's metadata XML.")
    if source == "file":
        upload = form.get("idp_metadata_file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return {}, "Choose the IdP's metadata file."
        data = await upload.read(MAX_METADATA_BYTES + 1)
        if len(data) > MAX_METADATA_BYTES:
            return {}, f"The file is larger than {MAX_METADATA_BYTES // 1024} KiB: it is not SAML metadata."
        try:
            return {"idp_metadata_xml": data.decode("utf-8-sig")}, None
        except UnicodeDecodeError:
            return {}, "The file is not text: choose the IdP's metadata XML file."
    if source == "manual":
        certificate = _text(form, "idp_certificate", 16 * 1024)
        config: dict[str, Any] = {
            "idp_entity_id": _text(form, "idp_entity_id") or None,
            "idp_sso_url": _text(form, "idp_sso_url") or None,
        }
        if certificate:
            config["idp_certificates"] = [certificate]
        return config, None
    return {}, "Choose how to give the IdP's details."


def _oidc_input(form: FormData) -> dict[str, Any]:
    config: dict[str, Any] = {
        "issuer": _text(form, "issuer") or None,
        "client_id": _text(form, "client_id") or None,
        "token_auth_type": _text(form, "token_auth_type") or "URL_PARAMS",
    }
    secret = _text(form, "client_secret", 1024)
    if secret:  # left empty: keep the stored secret
        config["client_secret"] = secret
    scopes = _text(form, "scopes").split()
    if scopes:
        config["scopes"] = scopes
    return config


def _echo(form: FormData) -> dict[str, str]:
    """The form's text fields, to show them again after a check (never the client secret)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in ("client_secret", "csrf_token")}


@router.post("/connections/{connection_id}/idp")
async def configure_idp(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    connection = _connection(rt, live, connection_id)
    form = await request.form()
    commit = _text(form, "action") == "save"
    if connection.type is ConnectionType.OIDC:
        config, missing = _oidc_input(form), None
    else:
        config, missing = await _saml_input(form)
    if missing:
        report = checks.CheckReport(problems=[missing])
    else:
        report = checks.check(rt, live.env, connection, config, commit=commit)
    if report.saved is not None:
        with rt.engine.begin() as conn:
            detail = {"fields": sorted(k for k in config if k != "client_secret" and config[k] is not None)}
            event = audit(
                rt,
                conn,
                live.session,
                "connection.configured",
                target=connection.id,
                detail=detail,
                client_ip=live.client_ip,
            )
        return RedirectResponse(f"/portal/connections/{connection.id}?done={event}#idp", status_code=303)
    status = 400 if (commit or missing) and not report.ok else 200
    return _connection_page(rt, live, connection, report=report, form=_echo(form), status=status)


def _mapping_from(form: FormData) -> tuple[dict[str, str], list[dict[str, str]]]:
    fields = form.getlist("field")[: len(MAPPING_FIELDS) + MAX_CUSTOM_ROWS]
    attributes = form.getlist("attribute")[: len(fields)]
    mapping: dict[str, str] = {}
    rows = []
    for field_name, attribute in zip(fields, attributes, strict=False):
        name, value = str(field_name).strip()[:64], str(attribute).strip()[:256]
        rows.append({"field": name, "attribute": value, "fixed": "yes" if name in MAPPING_FIELDS else ""})
        if name and value:
            mapping[name] = value
    return mapping, rows


@router.post("/connections/{connection_id}/mapping")
async def edit_mapping(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    connection = _connection(rt, live, connection_id)
    form = await request.form()
    mapping, rows = _mapping_from(form)
    if _text(form, "action") == "save":
        try:
            with rt.engine.begin() as conn:
                connections.update_connection(
                    rt, conn, live.env, connection.id, {"attribute_mapping": mapping}, org_id=live.session.subject
                )
                event = audit(
                    rt,
                    conn,
                    live.session,
                    "mapping.saved",
                    target=connection.id,
                    detail={"mapping": mapping},
                    client_ip=live.client_ip,
                )
        except ApiError as exc:
            report = checks.CheckReport(
                problems=[f"{v.field}: {v.description}" for v in exc.violations] or [exc.message]
            )
            return _connection_page(
                rt, live, connection, mapping_rows=rows, mapping_preview={"report": report}, status=400
            )
        return RedirectResponse(f"/portal/connections/{connection.id}?done={event}#mapping", status_code=303)
    source = test_logins.last_claims(rt, connection)
    preview: dict[str, Any]
    if source is None:
        preview = {"missing": True}
    else:
        try:
            preview = {"profile": test_logins.preview(connection, mapping, source)}
        except LoginError as error:
            preview = {"error": error}
    return _connection_page(rt, live, connection, mapping_rows=rows, mapping_preview=preview)


def _switch(rt: Runtime, live: LiveSession, connection_id: str, enabled: bool) -> Response:
    connection = _connection(rt, live, connection_id)
    try:
        org_id = live.session.subject
        # An OIDC IdP is read again before it is turned on (outside the transaction), as the API does.
        found = connection_checks.check_before_enable(rt, live.env, connection.id, org_id=org_id) if enabled else None
        with rt.engine.begin() as conn:
            changed = connections.set_enabled(
                rt, conn, live.env, connection.id, enabled, org_id=org_id, provider_check=found
            )
            action = "connection.enabled" if enabled else "connection.disabled"
            detail = {"connection_type": changed.type.value, "provider": changed.provider.value}
            event = audit(rt, conn, live.session, action, target=changed.id, detail=detail, client_ip=live.client_ip)
    except ApiError as exc:
        report = checks.CheckReport(problems=[exc.message, *(v.description for v in exc.violations)])
        return _connection_page(rt, live, connection, report=report, status=400)
    return RedirectResponse(f"/portal/connections/{connection.id}?done={event}#switch", status_code=303)


@router.post("/connections/{connection_id}/enable")
def enable(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    return _switch(runtime(request), live, connection_id, True)


@router.post("/connections/{connection_id}/disable")
def disable(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    return _switch(runtime(request), live, connection_id, False)


@router.post("/connections/{connection_id}/delete")
def delete(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    connection = _connection(rt, live, connection_id)
    with rt.engine.begin() as conn:
        connections.delete_connection(rt, conn, live.env.id, connection.id, org_id=live.session.subject)
        event = audit(rt, conn, live.session, "connection.deleted", target=connection.id, client_ip=live.client_ip)
    return RedirectResponse(f"/portal?done={event}", status_code=303)


# --- test sign-in -----------------------------------------------------------------------------------------


@router.get("/connections/{connection_id}/test")
def start_test(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    """A GET (a link, so the browser may leave for the IdP), guarded by the CSRF token in its query."""
    rt = runtime(request)
    if not csrf_ok(live.token, live.session, request.query_params.get("csrf")):
        return error_page(
            "This test link has expired",
            "It does not carry the security token of your session, so no test was started.",
            code="csrf_failed",
            status=403,
            hint="Go back to the connection page and start the test from there.",
        )
    connection = _connection(rt, live, connection_id)
    auth_request = test_logins.start(rt, live.env, connection)
    with rt.engine.begin() as conn:
        audit(rt, conn, live.session, "connection.test_started", target=connection.id, client_ip=live.client_ip)
    try:
        return connector_for(connection).start_login(rt, live.env, connection, auth_request)
    except LoginError as error:
        logins.fail_login(rt, live.env.id, error, step="authorize", request=auth_request, connection=connection)
        report = checks.CheckReport(problems=[f"The test could not start: {error.message}"])
        return _connection_page(rt, live, connection, report=report, status=400)


@router.get("/connections/{connection_id}/test/result")
def test_result(request: Request, connection_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    connection = _connection(rt, live, connection_id)
    params = {k: v for k, v in request.query_params.items() if k in ("code", "state", "error", "error_description")}
    outcome = test_logins.finish(rt, live.env, connection, params)
    if outcome.problem is None:
        detail: dict[str, Any] = {"ok": outcome.profile is not None}
        if outcome.failure is not None:
            detail |= {"error_code": outcome.failure.error_code, "reference": outcome.failure.id}
        with rt.engine.begin() as conn:
            audit(
                rt,
                conn,
                live.session,
                "connection.tested",
                target=connection.id,
                detail=detail,
                client_ip=live.client_ip,
            )
    context = {
        "connection": connection,
        "choice": _recorded_choice(rt, live, connection),
        "outcome": outcome,
        "error": params.get("error"),
    }
    return portal_page(rt, live, "portal/test_result.html", context)


# --- domains ----------------------------------------------------------------------------------------------


@router.post("/domains")
async def add_domain(request: Request, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    form = await request.form()
    name = _text(form, "domain", 300)
    try:
        with rt.engine.begin() as conn:
            added = domains.create_domain(
                rt, conn, live.env.id, live.session.subject, domain=name, domain_type="ORGANIZATION_DOMAIN"
            )
            event = audit(
                rt,
                conn,
                live.session,
                "domain.added",
                target=added.id,
                detail={"domain": added.domain},
                client_ip=live.client_ip,
            )
    except ApiError as exc:
        message = "; ".join(v.description for v in exc.violations) or exc.message
        return _home(rt, live, domain_error=f"{name or 'The domain'}: {message}")
    return RedirectResponse(f"/portal?done={event}#domains", status_code=303)


@router.post("/domains/{domain_id}/verify")
def verify_domain(request: Request, domain_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    checked, dns = domains.verify_domain(rt, live.env.id, live.session.subject, domain_id)
    with rt.engine.begin() as conn:
        event = audit(
            rt,
            conn,
            live.session,
            "domain.verified" if dns.verified else "domain.verification_failed",
            target=checked.id,
            detail={"domain": checked.domain},
            client_ip=live.client_ip,
        )
    if not dns.verified:
        return _home(rt, live, domain_error=f"{checked.domain}: {dns.message}")
    return RedirectResponse(f"/portal?done={event}#domains", status_code=303)


@router.post("/domains/{domain_id}/delete")
def delete_domain(request: Request, domain_id: str, live: LiveSession = Depends(PORTAL)) -> Response:
    rt = runtime(request)
    with rt.engine.begin() as conn:
        domains.delete_domain(conn, live.env.id, live.session.subject, domain_id)
        event = audit(rt, conn, live.session, "domain.deleted", target=domain_id, client_ip=live.client_ip)
    return RedirectResponse(f"/portal?done={event}#domains", status_code=303)
