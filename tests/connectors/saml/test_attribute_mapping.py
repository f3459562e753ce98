"""Attribute mapping: groups and other multi-valued attributes as lists, custom attributes, required fields."""

from __future__ import annotations

from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING
from tests.connectors.support import SamlWorld, outcome
from tests.support.saml_builder import build_response, encode, saml, sign_assertion


def login(world: SamlWorld, attributes: dict[str, list[str]], **options: object) -> tuple[str, str]:
    request, upstream = world.new_login()
    response = build_response(world.fields(upstream, attributes=attributes, **options))
    return outcome(world.post(encode(sign_assertion(response, world.idp)), request.id)), request.id


def test_groups_are_a_list_even_with_one_value_and_repeated_attributes_are_merged(world: SamlWorld) -> None:
    result, request_id = login(world, {"email": ["ada@example.com"], "groups": ["admins"]})
    assert result == "code" and world.code_profile(request_id)["groups"] == ["admins"]
    request, upstream = world.new_login()
    response = build_response(world.fields(upstream, attributes={"email": ["ada@example.com"], "groups": ["a"]}))
    statement = response.find(f"{saml('Assertion')}/{saml('AttributeStatement')}")
    assert statement is not None
    for role in ("b", "c"):  # Keycloak: one <Attribute Name="…"> element per role
        attribute = statement.makeelement(saml("Attribute"), {"Name": "groups"})
        attribute.makeelement(saml("AttributeValue"), {})
        value = attribute.makeelement(saml("AttributeValue"), {})
        value.text = role
        attribute.append(value)
        statement.append(attribute)
    assert outcome(world.post(encode(sign_assertion(response, world.idp)), request.id)) == "code"
    assert world.code_profile(request.id)["groups"] == ["a", "b", "c"]


def test_required_fields_missing_are_named_with_the_attribute_wanted(world: SamlWorld) -> None:
    world.reconfigure(
        attribute_mapping={**DEFAULT_ATTRIBUTE_MAPPING, "department": "dept"},
        required_attributes=["given_name", "groups", "department"],
    )
    result, _ = login(world, {"email": ["ada@example.com"], "firstName": ["Ada"], "groups": [""]})
    assert result == "mandatory_attribute_missing"
    diagnosis = world.failures()[-1].diagnosis
    assert diagnosis["missing_fields"] == ["groups", "department"]
    assert diagnosis["wanted"] == {"groups": "groups", "department": "dept"}
    assert diagnosis["got"] == ["email", "firstName", "groups"]
    attributes = {"email": ["ada@example.com"], "firstName": ["Ada"], "groups": ["x"], "dept": ["Math"]}
    result, request_id = login(world, attributes)
    assert result == "code"
    assert world.code_profile(request_id)["custom_attributes"] == {"department": "Math"}


def test_a_required_field_nobody_mapped_is_reported_as_unmapped(world: SamlWorld) -> None:
    world.reconfigure(required_attributes=["employee_id"])
    result, _ = login(world, {"email": ["ada@example.com"], "employee_id": ["7"]})
    assert result == "mandatory_attribute_missing"
    assert world.failures()[-1].diagnosis["wanted"] == {"employee_id": "(not mapped)"}
