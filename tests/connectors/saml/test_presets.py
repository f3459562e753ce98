"""SAML provider presets: applied to new connections without a mapping, valid as mappings, and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from entryway.model.connections import ConnectionType, Provider
from entryway.presets import all_presets, preset, preset_for
from tests.api.conftest import client_with, token_for
from tests.connectors.support import SamlWorld

ROOT = Path(__file__).resolve().parents[3]
SAML_PRESETS = [p for p in all_presets() if p.type is ConnectionType.SAML]


def test_every_required_product_has_a_saml_preset() -> None:
    keys = {p.key for p in SAML_PRESETS}
    assert keys == {
        "okta",
        "entra-id",
        "google",
        "jumpcloud",
        "onelogin",
        "pingidentity",
        "adfs",
        "shibboleth",
        "generic",
    }
    for p in SAML_PRESETS:
        assert p.attribute_mapping.get("email") and p.setup_steps and p.copy_to_idp
        assert preset(p.key, ConnectionType.SAML) is p
    assert preset_for(Provider.CUSTOM, ConnectionType.SAML) is preset("generic", ConnectionType.SAML)
    assert preset_for(Provider.IDP_SIMULATOR, ConnectionType.SAML) is None


@pytest.mark.parametrize("chosen", SAML_PRESETS, ids=lambda p: p.key)
def test_each_guide_names_every_attribute_and_field_of_its_preset(chosen: object) -> None:
    guide = (ROOT / chosen.guide).read_text()  # type: ignore[attr-defined]
    for attribute in chosen.attribute_mapping.values():  # type: ignore[attr-defined]
        assert f"`{attribute}`" in guide
    for label in chosen.copy_to_idp.values():  # type: ignore[attr-defined]
        assert label in guide


def test_new_connections_get_their_providers_mapping_unless_one_is_given(world: SamlWorld) -> None:
    base = f"/api/v1/organizations/{world.seed.organization_id}/connections"
    with client_with(world.rt, world.seed, token_for(world.rt, world.seed, ["*"])) as api:
        for chosen in SAML_PRESETS:
            body = {"type": "SAML", "provider": chosen.provider.value}
            if not chosen.applies_by_default:
                body["attribute_mapping"] = chosen.attribute_mapping  # accepted as a mapping (Shibboleth's OIDs)
            response = api.post(base, json=body)
            assert response.status_code == 201, (chosen.key, response.text)
            created = response.json()["connection"]
            assert created["attribute_mapping"] == chosen.attribute_mapping, chosen.key
            assert created["saml_config"]["idp_name_id_format"] == chosen.saml_name_id_format
        given = {"email": "mail"}
        body = {"type": "SAML", "provider": "MICROSOFT_AD", "attribute_mapping": given}
        assert api.post(base, json=body).json()["connection"]["attribute_mapping"] == given
