"""`entryway portal-links create|list|revoke`."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.cli.conftest import Run, as_json


def test_create_list_revoke(rt: Runtime, run: Run, seed: DevSeed) -> None:
    org = seed.organization_id
    made = run("portal-links", "create", "--org", org)
    location = made.stdout.strip().splitlines()[-1]
    assert location.startswith("http://localhost:8000/portal/links/") and "Send this link" in made.stdout
    embeddable = as_json(run("portal-links", "create", "--org", org, "--type", "embeddable", "--json"))
    assert embeddable["link_type"] == "EMBEDDABLE" and embeddable["location"].startswith("http://localhost:8000/")
    listed = as_json(run("portal-links", "list", "--org", org, "--json"))["links"]
    assert len(listed) == 2 and all(x["location"] is None for x in listed)
    link_id = next(x["id"] for x in listed if x["link_type"] == "SHAREABLE")
    browser = TestClient(create_app(rt), base_url="http://localhost:8000", follow_redirects=False)
    assert browser.get(urlsplit(location).path).status_code == 303
    assert browser.get("/portal").status_code == 200
    assert "sessions it opened have ended" in run("portal-links", "revoke", link_id, "--org", org).stdout
    assert browser.get("/portal").status_code == 401
    assert "was not found" in run("portal-links", "create", "--org", "org_nope", ok=False).output
