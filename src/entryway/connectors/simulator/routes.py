"""The IdP simulator's pages (development environments only): receive an AuthnRequest, let the developer
choose who logs in and how, and answer the ACS with a signed Response (HTML auto-post, or JSON for scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from entryway.connectors.saml import bindings
from entryway.connectors.saml.authn_request import ReceivedAuthnRequest, read_authn_request
from entryway.connectors.simulator.idp import Outcome, SimulatedUser, build_response
from entryway.model.connections import Provider, SsoConnection
from entryway.model.errors import LoginError
from entryway.model.selectors import email_domain
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.logins import cached_connection
from entryway.web.pages import error_page, render
from entryway.web.requests import current_environment, runtime
from entryway.web.routing import plain_route
from entryway.web.step_runner import run_step

router = APIRouter(include_in_schema=False)
BASE = "/sso/v1/simulator/{connection_id}"
MAX_CUSTOM_ATTRIBUTES = 50

OptionalForm = Annotated[str | None, Form()]


@dataclass(frozen=True)
class _Simulator:
    rt: Runtime
    env: Environment
    connection: SsoConnection


def _simulator(request: Request, connection_id: str) -> _Simulator | None:
    """The simulator connection, or None: production environments and other connections have no simulator."""
    env = current_environment(request)
    if not env.is_development:
        return None
    rt = runtime(request)
    connection = cached_connection(rt, env.id, connection_id)
    if connection is None or connection.provider is not Provider.IDP_SIMULATOR:
        return None
    return _Simulator(rt, env, connection)


def _not_found() -> Response:
    return error_page(
        "Not found",
        "There is no IdP simulator here.",
        code="invalid_request",
        status=404,
        hint="The simulator exists only for the IdP-simulator connection of a development environment.",
    )


def _bad_request(message: str, code: str = "invalid_request") -> Response:
    return error_page("The IdP simulator cannot continue", message, code=code, status=400)


def _read_request(sim: _Simulator, saml_request: str) -> ReceivedAuthnRequest:
    received = read_authn_request(bindings.decode_request(saml_request))
    wanted = sim.connection.saml_config.get("sp_entity_id")
    if received.issuer != wanted:
        raise LoginError.wanted_got(
            "invalid_saml_response", "The AuthnRequest comes from another service provider", wanted, received.issuer
        )
    return received


def _form_page(
    sim: _Simulator, *, saml_request: str | None, relay_state: str | None, login_hint: str | None
) -> Response:
    received: ReceivedAuthnRequest | None = None
    if saml_request:
        try:
            received = _read_request(sim, saml_request)
        except LoginError as exc:
            return _bad_request(f"The login request could not be used: {exc.message}", exc.code)
    outcomes = [o.value for o in Outcome] if received else [Outcome.IDP_INITIATED.value]
    return render(
        "simulator.html",
        {
            "title": "IdP simulator",
            "connection_id": sim.connection.id,
            "action": BASE.format(connection_id=sim.connection.id) + "/login",
            "request_id": received.id if received else None,
            "saml_request": saml_request or "",
            "relay_state": relay_state or "",
            "email": login_hint or "",
            "outcomes": outcomes,
            "acs_url": sim.connection.saml_config.get("sp_assertion_url"),
        },
        organization_id=sim.connection.organization_id,
    )


def _answer_request(
    request: Request, connection_id: str, saml_request: str | None, relay_state: str | None, login_hint: str | None
) -> Response:
    """Both bindings deliver the same AuthnRequest; only where its fields travel differs."""
    sim = _simulator(request, connection_id)
    if sim is None:
        return _not_found()
    if not saml_request:
        return _bad_request("This URL expects a SAMLRequest; use /idp-initiated to start an IdP-initiated login.")
    return _form_page(sim, saml_request=saml_request, relay_state=relay_state, login_hint=login_hint)


@router.get(BASE + "/sso")
def sso_redirect_binding(
    request: Request,
    connection_id: str,
    saml_request: Annotated[str | None, Query(alias="SAMLRequest")] = None,
    relay_state: Annotated[str | None, Query(alias="RelayState")] = None,
    login_hint: str | None = None,
) -> Response:
    return _answer_request(request, connection_id, saml_request, relay_state, login_hint)


@router.post(BASE + "/sso")
def sso_post_binding(
    request: Request,
    connection_id: str,
    saml_request: Annotated[str | None, Form(alias="SAMLRequest")] = None,
    relay_state: Annotated[str | None, Form(alias="RelayState")] = None,
    login_hint: OptionalForm = None,
) -> Response:
    return _answer_request(request, connection_id, saml_request, relay_state, login_hint)


@router.get(BASE + "/idp-initiated")
def idp_initiated_page(request: Request, connection_id: str, login_hint: str | None = None) -> Response:
    sim = _simulator(request, connection_id)
    if sim is None:
        return _not_found()
    return _form_page(sim, saml_request=None, relay_state=None, login_hint=login_hint)


@plain_route(router, BASE + "/login", "POST")
async def login(request: Request) -> Response:
    # A plain route that reads its form here, the rest as one login step (web/step_runner.py): FastAPI's
    # per-field Form() parameters cost more CPU than the simulator's own work on the benchmark's login path
    # (bench/README.md).
    connection_id: str = request.path_params["connection_id"]
    form = await request.form()
    try:
        fields = _LoginForm.read(form)
    except ValueError as exc:
        return _bad_request(str(exc))
    return await run_step(runtime(request).settings, _login, request, connection_id, fields)


@dataclass(frozen=True)
class _LoginForm:
    saml_request: str | None
    relay_state: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    attr_name: list[str]
    attr_value: list[str]
    outcome: str | None

    @classmethod
    def read(cls, form: FormData) -> _LoginForm:
        """The fields as text (a repeated single field keeps its last value, as a Form() parameter did)."""
        if any(not isinstance(value, str) for _, value in form.multi_items()):
            raise ValueError("The simulator's form takes text fields only, not files.")

        def one(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) and value != "" else None

        return cls(
            saml_request=one("SAMLRequest"),
            relay_state=one("RelayState"),
            email=one("email"),
            first_name=one("first_name"),
            last_name=one("last_name"),
            attr_name=[str(v) for v in form.getlist("attr_name")],
            attr_value=[str(v) for v in form.getlist("attr_value")],
            outcome=one("outcome"),
        )


def _login(request: Request, connection_id: str, form: _LoginForm) -> Response:
    sim = _simulator(request, connection_id)
    if sim is None:
        return _not_found()
    try:
        chosen = Outcome(form.outcome or Outcome.LOGIN.value)
    except ValueError:
        return _bad_request("outcome must be login, error or idp_initiated")
    received: ReceivedAuthnRequest | None = None
    if form.saml_request:
        try:
            received = _read_request(sim, form.saml_request)
        except LoginError as exc:
            return _bad_request(f"The login request could not be used: {exc.message}", exc.code)
    elif chosen is not Outcome.IDP_INITIATED:
        return _bad_request("A login or error answers an AuthnRequest: send SAMLRequest, or choose idp_initiated.")
    address = (form.email or "").strip()
    if chosen is not Outcome.ERROR and email_domain(address) is None:
        return _bad_request("Enter the simulated user's email address (name@example.com).")
    names, values = form.attr_name, form.attr_value
    if len(names) != len(values) or len(names) > MAX_CUSTOM_ATTRIBUTES:
        return _bad_request(f"Send attr_name and attr_value in pairs, at most {MAX_CUSTOM_ATTRIBUTES}.")
    user = SimulatedUser(
        address,
        (form.first_name or "").strip(),
        (form.last_name or "").strip(),
        [(n.strip(), v) for n, v in zip(names, values, strict=True) if n.strip()],
    )
    try:
        key = sim.rt.keyring.active(sim.env.id, "simulator")
    except LookupError:
        return _bad_request("This environment has no simulator key: run `entryway dev` once to create it.")
    xml = build_response(
        sim.connection,
        key,
        user,
        outcome=chosen,
        in_response_to=received.id if received else None,
        now=sim.rt.clock.now(),
    )
    # An unsolicited response answers no request, so the RelayState of one it was not asked for stays behind.
    relay = "" if chosen is Outcome.IDP_INITIATED and received else (form.relay_state or "")
    acs_url = str(sim.connection.saml_config["sp_assertion_url"])
    encoded = bindings.b64(xml)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"acs_url": acs_url, "SAMLResponse": encoded, "RelayState": relay},
            headers={"Cache-Control": "no-store"},
        )
    posted = {"SAMLResponse": encoded}
    if relay:
        posted["RelayState"] = relay
    return bindings.post_form(acs_url, posted, title="Returning to the application…")
