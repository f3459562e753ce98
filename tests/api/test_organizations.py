"""Organizations over the API: create, read, list with pages, update, delete; every error path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error, dump

BASE = "/api/v1/organizations"


def create(api: TestClient, **fields: object) -> dict[str, object]:
    response = api.post(BASE, json={"display_name": "Acme", **fields})
    assert response.status_code == 201, response.text
    org: dict[str, object] = response.json()["organization"]
    return org


def test_create_returns_the_wrapped_organization(api: TestClient) -> None:
    org = create(
        api,
        external_id="crm-42",
        slug="acme",
        logo_url="https://cdn.acme.com/logo.png",
        metadata={"tier": "gold", "région": "eu"},
    )
    assert str(org["id"]).startswith("org_")
    assert org["display_name"] == "Acme" and org["external_id"] == "crm-42" and org["slug"] == "acme"
    assert org["metadata"] == {"tier": "gold", "région": "eu"}
    assert str(org["create_time"]).endswith("Z") and org["create_time"] == org["update_time"]
    fetched = api.get(f"{BASE}/{org['id']}").json()
    assert fetched == {"organization": org}
    assert api.get(f"{BASE}:external/crm-42").json() == {"organization": org}


def test_invalid_fields_are_all_reported_and_nothing_is_stored(rt: Runtime, api: TestClient) -> None:
    before = dump(rt.engine)
    response = api.post(
        BASE,
        json={
            "display_name": " ",
            "slug": "Not A Slug",
            "logo_url": "http://x.com/l.png",
            "metadata": {"k": "v" * 2000},
        },
    )
    found = assert_error(response, 400, "display_name", "slug", "logo_url", "metadata.k")
    assert len(found) == 4
    assert dump(rt.engine) == before


def test_wrong_types_and_unknown_fields_are_400_naming_each(rt: Runtime, api: TestClient) -> None:
    before = dump(rt.engine)
    response = api.post(BASE, json={"display_name": 5, "metadata": {"a": 1}, "external_id": ["x"], "colour": "red"})
    assert_error(response, 400, "display_name", "metadata.a", "external_id", "colour")
    assert_error(api.post(BASE, json={}), 400, "display_name")
    assert dump(rt.engine) == before


def test_metadata_size_is_bounded(api: TestClient) -> None:
    assert_error(
        api.post(BASE, json={"display_name": "A", "metadata": {f"k{i}": "v" for i in range(51)}}), 400, "metadata"
    )
    assert_error(api.post(BASE, json={"display_name": "A", "metadata": {"k" * 65: "v"}}), 400)


@pytest.mark.parametrize("field", ["external_id", "slug"])
def test_duplicate_external_id_or_slug_is_409(rt: Runtime, api: TestClient, field: str) -> None:
    create(api, **{field: "same"})
    before = dump(rt.engine)
    assert_error(api.post(BASE, json={"display_name": "Other", field: "same"}), 409, field)
    other = create(api, display_name="Other")
    assert_error(api.patch(f"{BASE}/{other['id']}", json={field: "same"}), 409, field)
    after = dump(rt.engine)
    assert len(after["organizations"]) == len(before["organizations"]) + 1


def test_unknown_ids_are_404(api: TestClient) -> None:
    assert_error(api.get(f"{BASE}/org_nope"), 404)
    assert_error(api.patch(f"{BASE}/org_nope", json={"display_name": "x"}), 404)
    assert_error(api.delete(f"{BASE}/org_nope"), 404)
    assert_error(api.get(f"{BASE}:external/nope"), 404)


def test_patch_changes_only_given_fields_and_null_clears(api: TestClient) -> None:
    org = create(api, external_id="e1", slug="s1", metadata={"a": "1"})
    response = api.patch(f"{BASE}/{org['id']}", json={"display_name": "Acme Corp", "slug": None})
    assert response.status_code == 200, response.text
    changed = response.json()["organization"]
    assert changed["display_name"] == "Acme Corp" and changed["slug"] is None
    assert changed["external_id"] == "e1" and changed["metadata"] == {"a": "1"}
    assert changed["update_time"] >= org["update_time"]


def test_rejected_patch_changes_nothing(rt: Runtime, api: TestClient) -> None:
    org = create(api)
    before = dump(rt.engine)
    assert_error(api.patch(f"{BASE}/{org['id']}", json={"display_name": None}), 400, "display_name")
    assert_error(api.patch(f"{BASE}/{org['id']}", json={"display_name": "ok", "logo_url": "ftp://x"}), 400, "logo_url")
    assert dump(rt.engine) == before


def test_delete_removes_the_organization_with_its_domains_and_connections(
    rt: Runtime, api: TestClient, seed: DevSeed
) -> None:
    assert api.delete(f"{BASE}/{seed.organization_id}").json() == {}
    assert_error(api.get(f"{BASE}/{seed.organization_id}"), 404)
    after = dump(rt.engine)
    assert after["domains"] == [] and after["connections"] == []


def test_pages_cover_every_organization_once(api: TestClient) -> None:
    made = [create(api, display_name=f"Org {i}")["id"] for i in range(23)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        response = api.get(BASE, params={"page_size": 10, "page_token": token})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total_size"] == 24  # with the Test Organization
        seen.extend(o["id"] for o in body["organizations"])
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert len(seen) == 24 and set(made) <= set(seen)
    assert seen == sorted(seen)


def test_page_tokens_stay_valid_when_items_change(api: TestClient) -> None:
    for i in range(5):
        create(api, display_name=f"Org {i}")
    first = api.get(BASE, params={"page_size": 2}).json()
    shown = [o["id"] for o in first["organizations"]]
    api.delete(f"{BASE}/{shown[1]}")
    rest = api.get(BASE, params={"page_size": 100, "page_token": first["next_page_token"]}).json()
    ids = [o["id"] for o in rest["organizations"]]
    assert len(ids) == 4 and not set(ids) & set(shown)
    assert rest["next_page_token"] == ""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_token": "not-a-token"}, "page_token"),
        ({"page_token": "ZG9tYWluczpkb21feA"}, "page_token"),  # a token of the domains list
        ({"page_token": "%%%"}, "page_token"),
    ],
)
def test_bad_paging_parameters_are_400_naming_the_field(api: TestClient, params: dict[str, str], field: str) -> None:
    assert_error(api.get(BASE, params=params), 400, field)


def test_page_size_defaults_to_ten_and_allows_one_hundred(api: TestClient) -> None:
    for i in range(11):
        create(api, display_name=f"Org {i}")
    assert len(api.get(BASE).json()["organizations"]) == 10
    assert len(api.get(BASE, params={"page_size": 100}).json()["organizations"]) == 12
