"""The SAML connector's start of a login: an AuthnRequest bound to the auth request, in either binding."""

from __future__ import annotations

import base64
import re
import zlib
from html import unescape

from lxml import etree

from entryway.connectors.oidc.connector import OidcConnector
from entryway.connectors.registry import connector_for
from entryway.model.connections import ConnectionType, Provider
from entryway.services import logins
from entryway.services.connections import insert_connection
from entryway.store.after_commit import transaction
from tests.connectors.support import IDP_SSO_URL, SamlWorld, query
from tests.support.saml_builder import SAML, SAMLP


def _pending(world: SamlWorld, login_hint: str | None = None) -> logins.AuthRequest:
    with transaction(world.rt.engine) as db:
        return logins.create_auth_request(
            world.rt,
            db,
            env=world.seed.environment,
            client_id=world.seed.client_id,
            redirect_uri="http://localhost:3000/callback",
            scope="openid",
            state=None,
            nonce=None,
            code_challenge=None,
            code_challenge_method=None,
            connection=world.connection,
            login_hint=login_hint,
            upstream_request_id=connector_for(world.connection).new_upstream_id(),
        )


def _check_request(world: SamlWorld, xml: bytes, auth_request_id: str) -> None:
    root = etree.fromstring(xml)
    config = world.connection.saml_config
    assert root.tag == f"{{{SAMLP}}}AuthnRequest"
    assert root.get("Destination") == IDP_SSO_URL
    assert root.get("AssertionConsumerServiceURL") == config["sp_assertion_url"]
    assert root.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert root.get("ID", "").startswith("_") and len(root.get("ID", "")) > 32
    assert root.findtext(f"{{{SAML}}}Issuer") == config["sp_entity_id"]
    with world.rt.engine.connect() as db:
        bound = logins.find_by_upstream_request(db, root.get("ID", ""))
    assert bound is not None and bound.id == auth_request_id


def test_redirect_binding_deflates_the_request_and_binds_its_id(world: SamlWorld) -> None:
    request = _pending(world, login_hint="ada@example.com")
    answer = connector_for(world.connection).start_login(world.rt, world.seed.environment, world.connection, request)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(IDP_SSO_URL + "?")
    params = query(location)
    assert params["RelayState"] == request.id
    assert params["login_hint"] == "ada@example.com"
    xml = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -zlib.MAX_WBITS)
    _check_request(world, xml, request.id)


def test_force_authn_and_name_id_policy_follow_the_connection(world: SamlWorld) -> None:
    world.reconfigure(force_authn=True, idp_name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    request = _pending(world)
    answer = connector_for(world.connection).start_login(world.rt, world.seed.environment, world.connection, request)
    params = query(answer.headers["location"])
    assert "login_hint" not in params
    root = etree.fromstring(zlib.decompress(base64.b64decode(params["SAMLRequest"]), -zlib.MAX_WBITS))
    assert root.get("ForceAuthn") == "true"
    policy = root.find(f"{{{SAMLP}}}NameIDPolicy")
    assert policy is not None and policy.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def test_post_binding_renders_an_auto_submitting_form_allowed_by_its_csp(world: SamlWorld) -> None:
    world.reconfigure(idp_sso_request_binding="HTTP_POST")
    request = _pending(world)
    answer = connector_for(world.connection).start_login(world.rt, world.seed.environment, world.connection, request)
    assert answer.status_code == 200
    page = answer.body.decode()  # type: ignore[union-attr]
    assert f'action="{IDP_SSO_URL}"' in page
    assert "form-action https://idp.test.example;" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    assert fields["RelayState"] == request.id
    _check_request(world, base64.b64decode(unescape(fields["SAMLRequest"])), request.id)


def test_oidc_connections_get_the_oidc_connector(world: SamlWorld) -> None:
    with world.rt.engine.begin() as db:
        oidc = insert_connection(
            world.rt,
            db,
            env_id=world.env_id,
            env_url=world.seed.environment.url,
            organization_id=world.seed.organization_id,
            type=ConnectionType.OIDC,
            provider=Provider.OKTA,
            oidc_config={"issuer": "https://op.example"},
            enabled=True,
        )
    assert isinstance(connector_for(oidc), OidcConnector)
