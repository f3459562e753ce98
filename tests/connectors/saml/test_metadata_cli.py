"""`entryway connections create --metadata-…` and `entryway connections refresh-metadata` against real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run
from tests.connectors.support import SamlWorld
from tests.support.saml_builder import shared_key
from tests.support.saml_http import serving
from tests.support.saml_metadata import REDIRECT, IdpMetadataFields, idp_metadata, sp_metadata

IDP = "https://idp.cli.example/metadata"


def metadata(*names: str) -> bytes:
    return idp_metadata(IdpMetadataFields(IDP, {REDIRECT: IDP + "/sso"}, [shared_key(n) for n in names]))


def test_create_from_a_metadata_file_and_refuse_sp_metadata(world: SamlWorld, run: Run, tmp_path: Path) -> None:
    good = tmp_path / "idp.xml"
    good.write_bytes(b"\xef\xbb\xbf" + metadata("idp"))
    org = world.seed.organization_id
    created = json.loads(run("connections", "create", "--org", org, "--metadata-file", str(good), "--json").stdout)
    assert created["saml_config"]["idp_entity_id"] == IDP and created["missing_configuration"] == []
    wrong = tmp_path / "sp.xml"
    wrong.write_bytes(sp_metadata("https://sp.example", "https://sp.example/acs", shared_key("idp")))
    failed = run("connections", "create", "--org", org, "--metadata-file", str(wrong), ok=False)
    assert "saml_config.idp_metadata_xml: invalid_saml_metadata: this is service provider (SP) metadata" in (
        failed.output
    )


def test_create_from_a_url_then_refresh_all(world: SamlWorld, run: Run) -> None:
    allow = {"ENTRYWAY_ALLOW_PRIVATE_FETCH": "1"}
    org = world.seed.organization_id
    with serving() as http:
        url = http.put("/m.xml", metadata("idp"))
        refused = run("connections", "create", "--org", org, "--metadata-url", url, ok=False)
        assert "non-public address" in refused.output and http.hits == []
        args = ("connections", "create", "--org", org, "--metadata-url", url, "--json")
        created = json.loads(run(*args, env=allow).stdout)
        http.put("/m.xml", metadata("idp", "idp-next"))
        out = run("connections", "refresh-metadata", "--all", env=allow).stdout
        assert out.strip() == f"{created['id']}: changed idp_certificates; certificates added 1, removed 0"
        http.put("/m.xml", b"", status=404)
        failed = run("connections", "refresh-metadata", created["id"], env=allow, ok=False)
        assert "answered HTTP 404" in failed.output
    assert "name a connection" in run("connections", "refresh-metadata", ok=False).output
