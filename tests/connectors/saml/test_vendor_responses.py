"""Responses in each vendor's shape, signed with the vendor's own key, are accepted through the vendor's preset
mapping and yield the expected profile (IDP-FACTS §1.4 and §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from entryway.model.connections import ConnectionType
from entryway.presets import preset
from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import encode, shared_key
from tests.support.saml_vendors import (
    ADFS,
    ENTRA,
    GOOGLE,
    JUMPCLOUD,
    KEYCLOAK,
    OKTA,
    ONELOGIN,
    PING,
    SHIBBOLETH,
    Attr,
    VendorShape,
    build_vendor_response,
)

WS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
MS = "http://schemas.microsoft.com/identity/claims"
PLAIN = [
    Attr("email", ("ada@example.com",)),
    Attr("firstName", ("Ada",)),
    Attr("lastName", ("Lovelace",)),
    Attr("groups", ("engineering", "admins")),
]


@dataclass(frozen=True)
class Case:
    shape: VendorShape
    issuer: str
    name_id: str
    attributes: list[Attr]
    expected: dict[str, Any]
    preset_key: str | None = None  # defaults to the shape's name

    @property
    def id(self) -> str:
        return self.shape.name


EXPECTED_PLAIN = {"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}
CASES = [
    Case(
        OKTA,
        "http://www.okta.com/exkdoocxa1VmjpXmX697",
        "ada@example.com",
        [*PLAIN, Attr("id", ("00u1abcd2EFGH3ijk4x7",))],
        {
            **EXPECTED_PLAIN,
            "groups": ["engineering", "admins"],
            "custom_attributes": {"idp_user_id": "00u1abcd2EFGH3ijk4x7"},
        },
    ),
    Case(
        ENTRA,
        "https://sts.windows.net/3f2c1b0e-1111-2222-3333-444455556666/",
        "ada_example.com#EXT#@acme.onmicrosoft.com",
        [
            Attr(f"{MS}/tenantid", ("3f2c1b0e-1111-2222-3333-444455556666",)),
            Attr(f"{MS}/objectidentifier", ("9d1c5e2a-0000-4000-8000-123456789abc",)),
            Attr(f"{WS}/name", ("ada_example.com#EXT#@acme.onmicrosoft.com",)),
            Attr(f"{WS}/emailaddress", ("ada@example.com",)),
            Attr(f"{WS}/givenname", ("Ada",)),
            Attr(f"{WS}/surname", ("Lovelace",)),
            Attr(f"{MS}/displayname", ("Ada Lovelace",)),
            Attr(f"{MS}/identityprovider", ("https://sts.windows.net/3f2c1b0e-1111-2222-3333-444455556666/",)),
            Attr("http://schemas.microsoft.com/claims/authnmethodsreferences", ("password", "mfa")),
            Attr("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", ("0f1e2d3c-aaaa", "4b5a6978-bbbb")),
        ],
        {
            **EXPECTED_PLAIN,
            "name": "Ada Lovelace",
            "groups": ["0f1e2d3c-aaaa", "4b5a6978-bbbb"],
            "custom_attributes": {
                "object_id": "9d1c5e2a-0000-4000-8000-123456789abc",
                "tenant_id": "3f2c1b0e-1111-2222-3333-444455556666",
                "upn": "ada_example.com#EXT#@acme.onmicrosoft.com",
            },
        },
    ),
    Case(
        GOOGLE,
        "https://accounts.google.com/o/saml2?idpid=C01abc23d",
        "ada@example.com",
        PLAIN[:3],
        {**EXPECTED_PLAIN, "groups": None},
    ),
    Case(JUMPCLOUD, "IdP Entity ID", "ada@example.com", PLAIN, {**EXPECTED_PLAIN, "groups": ["engineering", "admins"]}),
    Case(
        ONELOGIN,
        "https://app.onelogin.com/saml/metadata/4f3c2b1a-1234-4abc-9def-0123456789ab",
        "ada@example.com",
        [*PLAIN, Attr("id", ("4f3c2b1a-aaaa",))],
        {**EXPECTED_PLAIN, "custom_attributes": {"idp_user_id": "4f3c2b1a-aaaa"}},
    ),
    Case(
        PING,
        "https://auth.pingone.com/7a8b9c0d-1111-2222-3333-444455556666",
        "5e6f7a8b-1111-4222-8333-944455556666",
        [Attr("saml_subject", ("5e6f7a8b-1111-4222-8333-944455556666",)), *PLAIN],
        {**EXPECTED_PLAIN, "subject": "5e6f7a8b-1111-4222-8333-944455556666"},
    ),
    Case(
        ADFS,
        "http://adfs.acme.example/adfs/services/trust",
        "ada@example.com",
        [
            Attr(f"{WS}/emailaddress", ("ada@example.com",)),
            Attr(f"{WS}/givenname", ("Ada",)),
            Attr(f"{WS}/surname", ("Lovelace",)),
            Attr(f"{WS}/upn", ("ada@acme.example",)),
            Attr("http://schemas.xmlsoap.org/claims/Group", ("Domain Users", "Engineering")),
        ],
        {
            **EXPECTED_PLAIN,
            "groups": ["Domain Users", "Engineering"],
            "custom_attributes": {"upn": "ada@acme.example"},
        },
    ),
    Case(
        SHIBBOLETH,
        "https://idp.university.example/idp/shibboleth",
        "AAdzZWNyZXQxvkR8Ww0bWk1mYXhJ",
        [
            Attr("urn:oid:0.9.2342.19200300.100.1.3", ("ada@example.com",), "mail"),
            Attr("urn:oid:2.5.4.42", ("Ada",), "givenName"),
            Attr("urn:oid:2.5.4.4", ("Lovelace",), "sn"),
            Attr("urn:oid:1.3.6.1.4.1.5923.1.5.1.1", ("staff", "maths"), "isMemberOf"),
            Attr("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", ("ada@university.example",), "eduPersonPrincipalName"),
        ],
        {
            **EXPECTED_PLAIN,
            "groups": ["staff", "maths"],
            "custom_attributes": {"eppn": "ada@university.example"},
        },
    ),
    Case(
        KEYCLOAK,
        "https://sso.acme.example/realms/acme",
        "ada@example.com",
        [*PLAIN[:3], Attr("Role", ("admin",)), Attr("Role", ("user",))],
        {**EXPECTED_PLAIN, "groups": ["admin", "user"]},
        preset_key="generic",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_vendor_shaped_response_is_accepted_with_the_expected_profile(world: SamlWorld, case: Case) -> None:
    chosen = preset(case.preset_key or case.shape.name, ConnectionType.SAML)
    assert chosen is not None
    mapping = dict(chosen.attribute_mapping)
    if case.shape is KEYCLOAK:
        mapping["groups"] = "Role"  # the admin maps Keycloak's default role list
    key = shared_key(case.shape.name)
    world.reconfigure(attribute_mapping=mapping, idp_entity_id=case.issuer, idp_certificates=[key.certificate_pem])
    request, upstream = world.new_login()
    fields = world.fields(upstream, name_id=case.name_id)
    response = build_vendor_response(case.shape, fields, case.attributes, key)
    answer = world.post(encode(response), request.id)
    assert outcome(answer) == "code", world.failures()[-1].diagnosis if world.failures() else answer.text
    profile = world.code_profile(request.id)
    assert profile["subject"] == case.expected.get("subject", case.name_id)
    for name, value in case.expected.items():
        if name != "subject":
            assert profile[name] == value, name
    # The same response signed by another key is refused: the vendor's key is what made it acceptable.
    request, upstream = world.new_login()
    forged = build_vendor_response(
        case.shape, world.fields(upstream, name_id=case.name_id), case.attributes, shared_key("attacker")
    )
    assert outcome(world.post(encode(forged), request.id)) == "signature_validation_failed"
