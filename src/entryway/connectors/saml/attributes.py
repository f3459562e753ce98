"""From a verified assertion to the normalized Profile, through the connection's attribute mapping.

The mapping is profile field -> IdP attribute name. The standard fields fill the Profile's own fields
(groups as a list, the rest single-valued); any other mapped field becomes a custom attribute; attributes
nobody mapped are kept as raw attributes. An attribute is found by its Name, then by its FriendlyName.
Repeated Attribute elements with one Name arrive merged (Keycloak sends one element per role).

A connection may list required profile fields (saml_config.required_attributes); a login whose assertion
leaves any of them empty fails with mandatory_attribute_missing naming each field and the attribute wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from entryway.connectors.saml.response import VerifiedAssertion
from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING
from entryway.model.errors import LoginError
from entryway.model.profile import Profile
from entryway.model.selectors import email_domain

SINGLE_FIELDS = ("given_name", "family_name", "name", "preferred_username")
MAX_EMAIL_LENGTH = 320  # RFC 5321 path limit, and the auth log's column


def _one_or_many(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else list(values)


def _has_value(profile: Profile, field: str) -> bool:
    if field == "email":
        return bool(profile.email)
    if field == "groups":
        return bool(profile.groups)
    if field in SINGLE_FIELDS:
        return bool(getattr(profile, field))
    return field in profile.custom_attributes


def _check_required(profile: Profile, mapping: dict[str, str], required: Sequence[str], received: list[str]) -> None:
    missing = [field for field in required if not _has_value(profile, field)]
    if missing:
        raise LoginError.wanted_got(
            "mandatory_attribute_missing",
            "The IdP sent no value for the required profile field(s) "
            + ", ".join(missing)
            + ": add the attribute(s) to the IdP's attribute statements",
            {field: mapping.get(field) or "(not mapped)" for field in missing},
            received or "no attributes",
            missing_fields=missing,
        )


def map_profile(assertion: VerifiedAssertion, mapping: dict[str, str], required: Sequence[str] = ()) -> Profile:
    mapping = mapping or DEFAULT_ATTRIBUTE_MAPPING
    used: set[str] = set()

    def values_of(attribute_name: str) -> list[str] | None:
        name = (
            attribute_name if attribute_name in assertion.attributes else assertion.friendly_names.get(attribute_name)
        )
        if name is None:
            return None
        used.add(name)
        found = [v for v in assertion.attributes[name] if v != ""]
        return found or None

    email_attribute = mapping.get("email") or DEFAULT_ATTRIBUTE_MAPPING["email"]
    emails = values_of(email_attribute)
    if not emails:
        raise LoginError.wanted_got(
            "mandatory_attribute_missing",
            f"The IdP sent no {email_attribute!r} attribute: add it to the IdP's attribute statements",
            email_attribute,
            sorted(assertion.attributes) or "no attributes",
        )
    email = emails[0].strip()
    if email_domain(email) is None or len(email) > MAX_EMAIL_LENGTH:
        raise LoginError.wanted_got(
            "mandatory_attribute_missing",
            f"The {email_attribute!r} attribute does not hold an email address",
            f"an email address in {email_attribute!r}",
            "a value that is not an email address",
        )
    profile = Profile(subject=assertion.name_id, email=email, session_index=assertion.session_index)
    for field, attribute_name in mapping.items():
        if field == "email" or not attribute_name:
            continue
        values = values_of(attribute_name)
        if values is None:
            continue
        if field == "groups":
            profile.groups = list(values)
        elif field in SINGLE_FIELDS:
            setattr(profile, field, values[0])
        else:
            profile.custom_attributes[field] = _one_or_many(values)
    profile.raw_attributes = {
        name: _one_or_many(values) for name, values in assertion.attributes.items() if name not in used and values
    }
    _check_required(profile, mapping, required, sorted(assertion.attributes))
    return profile
