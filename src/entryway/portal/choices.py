"""The identity providers an IT admin can pick in the portal, each with its logo and step-by-step guide.

SAML choices are the SAML presets (presets/saml.py: their steps, the vendor's field labels, their notes);
OIDC choices are the OIDC presets (presets/oidc.py), whose steps are written here from their facts (issuer,
client authentication) — the longer guides live in docs/providers/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from entryway.model.connections import ConnectionType, Provider
from entryway.presets import all_presets, preset_for
from entryway.presets.oidc import PRESETS as OIDC_PRESETS
from entryway.presets.oidc import OidcPreset

# Logo template per product slug (web/templates/portal/logos/<slug>.svg: simple marks drawn for Entryway).
_OIDC_SLUGS = {
    Provider.OKTA: "okta",
    Provider.MICROSOFT_AD: "entra-id",
    Provider.GOOGLE: "google",
    Provider.JUMPCLOUD: "jumpcloud",
    Provider.ONELOGIN: "onelogin",
    Provider.PING_IDENTITY: "pingidentity",
    Provider.CUSTOM: "generic",
}


@dataclass(frozen=True)
class IdpChoice:
    key: str  # "saml:okta", "oidc:okta": what the picker form sends
    slug: str
    type: ConnectionType
    provider: Provider
    display_name: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = ()
    copy_to_idp: dict[str, str] = field(default_factory=dict)  # Entryway value -> the vendor's field label
    idp_values_from: tuple[str, str] = ("metadata_url", "")
    attribute_mapping: dict[str, str] = field(default_factory=dict)
    issuer_example: str = ""
    token_auth_type: str = "URL_PARAMS"
    scopes: tuple[str, ...] = ()

    @property
    def logo(self) -> str:
        return f"portal/logos/{self.slug}.svg"

    @property
    def protocol(self) -> str:
        return "SAML 2.0" if self.type is ConnectionType.SAML else "OpenID Connect"


def _oidc_steps(preset: OidcPreset) -> tuple[str, ...]:
    auth = (
        "client secret basic (HTTP Basic)"
        if preset.token_auth_type == "BASIC_AUTH"
        else "client secret post (in the request body)"
    )
    return (
        f"In {preset.display_name}'s admin console, create an OpenID Connect web application "
        "(authorization code flow).",
        "Set its sign-in redirect URI to Entryway's redirect URI shown below, exactly.",
        "Assign the users or groups who may sign in.",
        f"Copy the application's client ID and client secret into the form below. The issuer is "
        f"{preset.issuer_example}.",
        f"Client authentication: {auth}. Scopes: {' '.join(preset.scopes)}.",
        "Run a test sign-in from this page, then turn the connection on.",
    )


@cache
def choices() -> tuple[IdpChoice, ...]:
    found = [
        IdpChoice(
            key=f"saml:{p.key}",
            slug=p.key,
            type=ConnectionType.SAML,
            provider=p.provider,
            display_name=p.display_name,
            steps=p.setup_steps,
            notes=p.notes,
            copy_to_idp=dict(p.copy_to_idp),
            idp_values_from=p.idp_values_from,
            attribute_mapping=dict(p.attribute_mapping),
        )
        for p in all_presets()
        if p.type is ConnectionType.SAML
    ]
    found += [
        IdpChoice(
            key=f"oidc:{_OIDC_SLUGS[provider]}",
            slug=_OIDC_SLUGS[provider],
            type=ConnectionType.OIDC,
            provider=provider,
            display_name=p.display_name,
            steps=_oidc_steps(p),
            copy_to_idp={"redirect_uri": "Sign-in redirect URI"},
            idp_values_from=("manual", "issuer, client ID and client secret"),
            issuer_example=p.issuer_example,
            token_auth_type=p.token_auth_type,
            scopes=p.scopes,
        )
        for provider, p in OIDC_PRESETS.items()
        if provider in _OIDC_SLUGS
    ]
    return tuple(found)


def choice(key: str) -> IdpChoice | None:
    return next((c for c in choices() if c.key == key), None)


def choice_for(type_: ConnectionType, provider: Provider, key: str | None = None) -> IdpChoice:
    """The choice a connection was made from (its recorded key), else the default one for its provider."""
    chosen = choice(key) if key else None
    if chosen is not None and chosen.type is type_ and chosen.provider is provider:
        return chosen
    if type_ is ConnectionType.SAML:
        preset = preset_for(provider, type_)
        found = choice(f"saml:{preset.key}") if preset else None
        return found or choice("saml:generic") or choices()[0]
    return choice(f"oidc:{_OIDC_SLUGS.get(provider, 'generic')}") or choices()[-1]
