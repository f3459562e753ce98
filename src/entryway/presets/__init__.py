"""Provider presets: what Entryway knows about each IdP product, as data.

A preset gives a new connection its default attribute mapping (and, for SAML, the NameID format to ask for)
when the caller gives none, and carries the setup facts the admin portal and docs/providers/ show: which of
Entryway's values the IdP admin copies into which field of the vendor's UI, where the IdP's own values come
from, and the steps in order.

Each protocol keeps its presets in its own module (presets/saml.py; presets/oidc.py for OIDC connections),
as a PRESETS tuple; list the module in _MODULES to register it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache

from entryway.model.connections import ConnectionType, Provider

_MODULES = ("entryway.presets.saml",)


@dataclass(frozen=True)
class Preset:
    key: str  # the product's stable slug ("okta", "entra-id"); with the type it names the guide
    display_name: str
    type: ConnectionType
    provider: Provider  # the connection provider it applies to (CUSTOM for generic products)
    attribute_mapping: dict[str, str]  # profile field -> attribute (or claim) name
    # Entryway's value -> the label of the vendor's field it goes into (e.g. sp_assertion_url -> "ACS URL").
    copy_to_idp: dict[str, str] = field(default_factory=dict)
    # Where the IdP's values come from: "metadata_url", "metadata_file" or "manual", and the vendor's label.
    idp_values_from: tuple[str, str] = ("metadata_file", "")
    setup_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # quirks the admin should know (signing defaults, SHA-1, multi-value, …)
    saml_name_id_format: str | None = None  # the NameIDPolicy Entryway asks for; None: Entryway's default
    applies_by_default: bool = True  # False: chosen explicitly (several presets share one provider value)

    @property
    def guide(self) -> str:
        """The setup guide, e.g. docs/providers/okta-saml.md (and okta-oidc.md for the OIDC preset)."""
        return f"docs/providers/{self.key}-{self.type.value.lower()}.md"


@cache
def all_presets() -> tuple[Preset, ...]:
    found: list[Preset] = []
    for name in _MODULES:
        found.extend(importlib.import_module(name).PRESETS)
    return tuple(found)


def preset(key: str, type_: ConnectionType) -> Preset | None:
    return next((p for p in all_presets() if p.key == key and p.type is type_), None)


def preset_for(provider: Provider, type_: ConnectionType) -> Preset | None:
    """The preset a new connection of this provider and type gets when nothing else is said."""
    return next((p for p in all_presets() if p.provider is provider and p.type is type_ and p.applies_by_default), None)
