"""What Entryway knows about each vendor's OpenID Provider (IDP-FACTS §3): where the issuer lives, which
scopes to ask for, how the client authenticates, and which claims carry the email and groups.

A preset never overrides what an administrator configured; it fills the gaps (the claim to fall back to when
the mapped one is absent, how a groups string is split) and documents the issuer to type in.
"""

from __future__ import annotations

from dataclasses import dataclass

from entryway.model.connections import Provider


@dataclass(frozen=True)
class OidcPreset:
    provider: Provider
    display_name: str
    issuer_example: str  # what the administrator types as `issuer` (placeholders in braces)
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    token_auth_type: str = "URL_PARAMS"
    # Claims tried, in order, when the mapped email claim is absent.
    email_claims: tuple[str, ...] = ("email",)
    # A groups claim that arrives as one string is split on this (None: kept as one group).
    groups_delimiter: str | None = None
    guide: str = "docs/providers/generic-oidc.md"


PRESETS: dict[Provider, OidcPreset] = {
    Provider.OKTA: OidcPreset(
        Provider.OKTA,
        "Okta",
        "https://{yourOktaDomain} (org server) or https://{yourOktaDomain}/oauth2/default",
        token_auth_type="BASIC_AUTH",
        guide="docs/providers/okta-oidc.md",
    ),
    Provider.MICROSOFT_AD: OidcPreset(
        Provider.MICROSOFT_AD,
        "Microsoft Entra ID",
        "https://login.microsoftonline.com/{tenant-id}/v2.0",
        # Entra sends email only as an optional claim; the UPN is the usual fallback.
        email_claims=("email", "preferred_username", "upn"),
        guide="docs/providers/entra-id-oidc.md",
    ),
    Provider.GOOGLE: OidcPreset(
        Provider.GOOGLE,
        "Google Workspace",
        "https://accounts.google.com",
        scopes=("openid", "email", "profile"),
        guide="docs/providers/google-oidc.md",
    ),
    Provider.JUMPCLOUD: OidcPreset(
        Provider.JUMPCLOUD,
        "JumpCloud",
        "https://oauth.id.jumpcloud.com/",
        token_auth_type="BASIC_AUTH",
        guide="docs/providers/jumpcloud-oidc.md",
    ),
    Provider.ONELOGIN: OidcPreset(
        Provider.ONELOGIN,
        "OneLogin",
        "https://{subdomain}.onelogin.com/oidc/2",
        scopes=("openid", "profile", "email", "groups"),
        groups_delimiter=";",
        guide="docs/providers/onelogin-oidc.md",
    ),
    Provider.PING_IDENTITY: OidcPreset(
        Provider.PING_IDENTITY,
        "PingOne / PingFederate",
        "https://auth.pingone.com/{envId}/as",
        token_auth_type="BASIC_AUTH",
        guide="docs/providers/pingidentity-oidc.md",
    ),
    Provider.CUSTOM: OidcPreset(Provider.CUSTOM, "Generic OpenID Connect", "https://idp.example.com"),
}
GENERIC = PRESETS[Provider.CUSTOM]


def oidc_preset(provider: Provider) -> OidcPreset:
    return PRESETS.get(provider, GENERIC)
