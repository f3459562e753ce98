"""The SAML connector's start of a login: an AuthnRequest bound to the auth request, sent to the IdP."""

from __future__ import annotations

from starlette.responses import Response

from entryway.connectors.saml import bindings
from entryway.connectors.saml.authn_request import build_authn_request, new_request_id
from entryway.connectors.saml.request_signing import sign_request_xml, signed_query, signs_requests
from entryway.connectors.saml.sp_key import signing_key
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError
from entryway.runtime import Runtime
from entryway.services.environments import Environment
from entryway.services.logins import AuthRequest

REQUEST_BINDINGS = ("HTTP_REDIRECT", "HTTP_POST")


class SamlConnector:
    start_may_fetch = False  # the AuthnRequest is built from the stored configuration alone

    def new_upstream_id(self) -> str:
        return new_request_id()

    def start_login(self, rt: Runtime, env: Environment, connection: SsoConnection, request: AuthRequest) -> Response:
        config = connection.saml_config
        sso_url = config.get("idp_sso_url")
        if not isinstance(sso_url, str) or not sso_url.startswith(("https://", "http://")):
            raise LoginError.wanted_got(
                "invalid_saml_metadata",
                "The connection has no IdP single sign-on URL: add the IdP metadata or its SSO URL",
                "an http(s) idp_sso_url",
                "none" if not sso_url else "a value that is not an http(s) URL",
                connection_id=connection.id,
            )
        binding = config.get("idp_sso_request_binding") or "HTTP_REDIRECT"
        if binding not in REQUEST_BINDINGS:
            raise LoginError.wanted_got(
                "invalid_saml_metadata",
                "The connection's request binding is not one Entryway can send",
                " or ".join(REQUEST_BINDINGS),
                str(binding),
                connection_id=connection.id,
            )
        assert request.upstream_request_id is not None  # stored with the auth request (new_upstream_id)
        authn = build_authn_request(connection, rt.clock.now(), request.upstream_request_id)
        sp_key = signing_key(rt, env.id, rt.clock.now()) if signs_requests(connection) else None
        if binding == "HTTP_POST":
            xml = sign_request_xml(authn.xml, sp_key) if sp_key else authn.xml
            fields = {"SAMLRequest": bindings.b64(xml), "RelayState": request.id}
            return bindings.post_form(sso_url, fields, title="Signing you in…")
        params = {"SAMLRequest": bindings.deflate_and_encode(authn.xml), "RelayState": request.id}
        if sp_key:
            params = signed_query(params, sp_key)
        if request.login_hint:
            # Not part of SAML, but Entra ID, Okta and Google read it to prefill the user name.
            params["login_hint"] = request.login_hint
        return bindings.redirect(sso_url, params)
