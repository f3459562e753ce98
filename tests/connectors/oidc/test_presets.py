"""Every provider the issue names has an OIDC preset with a guide that exists."""

from __future__ import annotations

from pathlib import Path

from entryway.model.connections import Provider
from entryway.presets.oidc import GENERIC, PRESETS, oidc_preset

ROOT = Path(__file__).resolve().parents[3]


def test_each_named_vendor_has_a_preset_and_a_guide() -> None:
    named = {Provider.OKTA, Provider.MICROSOFT_AD, Provider.GOOGLE, Provider.JUMPCLOUD, Provider.ONELOGIN}
    named |= {Provider.PING_IDENTITY, Provider.CUSTOM}
    assert named <= set(PRESETS)
    for preset in PRESETS.values():
        assert "openid" in preset.scopes
        assert preset.token_auth_type in ("URL_PARAMS", "BASIC_AUTH")
        assert (ROOT / preset.guide).is_file(), preset.guide


def test_providers_without_a_preset_get_the_generic_one() -> None:
    assert oidc_preset(Provider.ADFS) is GENERIC
