"""From verified claims (ID token, merged with userinfo) to the normalized Profile, through the connection's
attribute mapping (profile field -> claim name).

A mapped claim that is absent falls back to the standard OIDC claim of the same profile field, so the
default (SAML-flavoured) mapping still works for an OIDC connection. Claims nobody mapped are kept as raw
attributes, except the protocol claims that say nothing about the user.
"""

from __future__ import annotations

from typing import Any

from entryway.model.connections import DEFAULT_ATTRIBUTE_MAPPING, Provider
from entryway.model.errors import LoginError
from entryway.model.profile import Profile
from entryway.model.selectors import email_domain
from entryway.presets.oidc import oidc_preset

SINGLE_FIELDS = ("given_name", "family_name", "name", "preferred_username")
STANDARD_CLAIMS = {field: field for field in ("email", "groups", *SINGLE_FIELDS)}
PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "auth_time", "jti", "sid", "acr"}
    | {"amr", "s_hash", "uti", "rh", "ver", "aio"}
)
MAX_EMAIL_LENGTH = 320
MAX_GROUPS = 500


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _groups(value: Any, delimiter: str | None) -> list[str] | None:
    if isinstance(value, list):
        found = [g for g in (_text(v) for v in value[:MAX_GROUPS]) if g]
        return found or None
    text = _text(value)
    if text is None:
        return None
    # OneLogin sends a multi-valued groups claim as one ';'-joined string unless the admin changes it.
    if delimiter is not None and delimiter in text:
        return [g.strip() for g in text.split(delimiter) if g.strip()]
    return [text]


def merge_userinfo(id_claims: dict[str, Any], userinfo: dict[str, Any]) -> dict[str, Any]:
    """OIDC Core §5.3.2: userinfo is about the token's user only; ID-token claims win where both speak."""
    if userinfo.get("sub") != id_claims.get("sub"):
        raise LoginError.wanted_got(
            "user_info_retrieve_failed",
            "The IdP's userinfo is about another user than the ID token",
            "the ID token's sub",
            "another sub" if userinfo.get("sub") else "no sub",
        )
    return {**userinfo, **id_claims}


def map_profile(claims: dict[str, Any], mapping: dict[str, str], provider: Provider) -> Profile:
    mapping = mapping or DEFAULT_ATTRIBUTE_MAPPING
    preset = oidc_preset(provider)
    used: set[str] = set()

    def claim(field: str) -> Any:
        fallbacks = preset.email_claims if field == "email" else (STANDARD_CLAIMS.get(field),)
        for name in (mapping.get(field), *fallbacks):
            if name and claims.get(name) not in (None, "", []):
                used.add(name)
                return claims[name]
        return None

    email = _text(claim("email"))
    if email is None:
        wanted = mapping.get("email") or "email"
        raise LoginError.wanted_got(
            "mandatory_attribute_missing",
            f"The IdP sent no {wanted!r} claim: request the email scope, or map the claim that holds the email",
            wanted,
            sorted(k for k in claims if k not in PROTOCOL_CLAIMS)[:30] or "no claims",
        )
    if email_domain(email) is None or len(email) > MAX_EMAIL_LENGTH:
        raise LoginError.wanted_got(
            "mandatory_attribute_missing",
            "The email claim does not hold an email address",
            "an email address",
            "a value that is not an email address",
        )
    verified = claims.get("email_verified")
    profile = Profile(
        subject=str(claims["sub"]),
        email=email,
        # Entra ID sends no email_verified (IDP-FACTS §3.2); only an explicit false is passed on as false.
        email_verified=verified is not False and verified != "false",
    )
    for field in mapping:
        if field == "email" or not mapping[field]:
            continue
        value = claim(field)
        if value is None:
            continue
        if field == "groups":
            profile.groups = _groups(value, preset.groups_delimiter)
        elif field in SINGLE_FIELDS:
            setattr(profile, field, _text(value))
        else:
            profile.custom_attributes[field] = value
    for field in SINGLE_FIELDS:
        if getattr(profile, field) is None and field not in mapping:
            setattr(profile, field, _text(claim(field)))
    used.update({"sub", "email_verified"})
    profile.raw_attributes = {k: v for k, v in claims.items() if k not in used and k not in PROTOCOL_CLAIMS}
    return profile
