"""GET /oidc/logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

Entryway keeps no browser session of its own; logging out ends the upstream session where the IdP allows it
(an OIDC end_session_endpoint, a SAML SLO URL) and then sends the browser back to the app. Post-logout
redirection only ever goes to a registered post-logout URL (exact match), never elsewhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from entryway.connectors.oidc.logout import upstream_logout_url
from entryway.connectors.saml.sp_logout import start_logout
from entryway.model.environments import RedirectKind
from entryway.oidc_provider import signing
from entryway.oidc_provider.params import MalformedParameter, RepeatedParameter, first_repeated, single
from entryway.runtime import Runtime
from entryway.services.environments import Environment, cached_redirect_uris
from entryway.web.pages import error_page, render
from entryway.web.redirects import no_store_redirect
from entryway.web.requests import request_environment, request_runtime
from entryway.web.urls import with_query

router = APIRouter(include_in_schema=False)

MAX_STATE = 2048


class LogoutRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refused_page(exc: LogoutRefused) -> Response:
    return error_page(
        "This sign-out link is not valid",
        exc.message,
        code=exc.code,
        status=400,
        hint="The application that sent you here is misconfigured; tell its developers.",
    )


def check_id_token_hint(rt: Runtime, env: Environment, hint: str, client_id: str | None) -> dict[str, Any]:
    """The hint must be an ID token this environment signed (expired is fine: it only names the session)."""
    try:
        claims = signing.verify(rt, env, hint, verify_expiry=False)
    except signing.InvalidToken as exc:
        raise LogoutRefused("invalid_request", "id_token_hint is not an ID token issued by this environment") from exc
    # Access tokens are signed by the same key; only ID tokens carry azp (and an at+jwt typ marks the others).
    if "azp" not in claims:
        raise LogoutRefused("invalid_request", "id_token_hint is not an ID token")
    if client_id is not None and claims["azp"] != client_id:
        raise LogoutRefused("invalid_request", "id_token_hint was issued to another client than client_id")
    return claims


def registered_post_logout(rt: Runtime, env: Environment, uri: str) -> bool:
    # Exact comparison only: a logout redirect is not worth a wildcard's risk.
    return any(r.uri == uri for r in cached_redirect_uris(rt, env.id, RedirectKind.POST_LOGOUT))


@router.get("/oidc/logout")
def logout(
    request: Request, env: Environment = Depends(request_environment), rt: Runtime = Depends(request_runtime)
) -> Response:
    params = request.query_params
    try:
        repeated = first_repeated(params)
        if repeated is not None:
            raise LogoutRefused("invalid_request", f"the parameter {repeated} was given more than once")
        hint = single(params, "id_token_hint", max_length=16384)
        target = single(params, "post_logout_redirect_uri", max_length=2048)
        state = single(params, "state", max_length=MAX_STATE)
        client_id = single(params, "client_id", max_length=128)
        hint_claims = check_id_token_hint(rt, env, hint, client_id) if hint is not None else None
        if target is not None and not registered_post_logout(rt, env, target):
            raise LogoutRefused(
                "invalid_redirect_uri", "post_logout_redirect_uri is not on this environment's post-logout URLs"
            )
    except (RepeatedParameter, MalformedParameter) as exc:
        return _refused_page(LogoutRefused("invalid_request", str(exc)))
    except LogoutRefused as exc:
        return _refused_page(exc)
    if hint_claims is not None:
        upstream = upstream_logout_url(rt, env, hint_claims, target, state)
        if upstream is not None:
            # The IdP ends its session first and sends the browser back to finish this logout.
            return no_store_redirect(upstream)
        # A SAML login with an SLO URL: a signed LogoutRequest to the IdP, whose LogoutResponse finishes this.
        saml_logout = start_logout(rt, env, hint_claims, target, state)
        if saml_logout is not None:
            return saml_logout
    return finish_app_logout(rt, env, target, state)


def finish_app_logout(rt: Runtime, env: Environment, target: str | None, state: str | None) -> Response:
    """Send the browser to the app's registered post-logout URL (with state), or show the signed-out page."""
    if target is None or not registered_post_logout(rt, env, target):
        return render("oidc_signed_out.html", {"title": "You are signed out"})
    location = target if state is None else with_query(target, {"state": state})
    return no_store_redirect(location)
