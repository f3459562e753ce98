"""The caller's environment over the API: its name, redirect-URI allow-lists and initiate-login URL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error, dump
from tests.api.conftest import CALLBACK

URIS = "/api/v1/environment/redirect-uris"


def test_get_and_rename(api: TestClient, seed: DevSeed) -> None:
    env = api.get("/api/v1/environment").json()["environment"]
    assert env["id"] == seed.environment.id and env["type"] == "development" and env["url"] == seed.environment.url
    renamed = api.patch("/api/v1/environment", json={"display_name": "  Staging  "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["environment"]["display_name"] == "Staging"
    assert api.get("/api/v1/environment").json()["environment"]["display_name"] == "Staging"


def test_rename_errors_change_nothing(rt: Runtime, api: TestClient) -> None:
    before = dump(rt.engine)
    assert_error(api.patch("/api/v1/environment", json={"display_name": ""}), 400, "display_name")
    assert_error(api.patch("/api/v1/environment", json={"display_name": 3}), 400, "display_name")
    assert_error(api.patch("/api/v1/environment", json={"type": "production"}), 400, "type")
    assert_error(api.patch("/api/v1/environment", json={"display_name": "x" * 201}), 400, "display_name")
    assert dump(rt.engine) == before


def test_add_list_and_remove_redirect_uris(api: TestClient) -> None:
    added = api.post(URIS, json={"uri": "https://app.acme.com/callback"})
    assert added.status_code == 201, added.text
    assert added.json()["redirect_uri"] == {
        "uri": "https://app.acme.com/callback",
        "kind": "callback",
        "default": False,
        "create_time": added.json()["redirect_uri"]["create_time"],
    }
    api.post(URIS, json={"uri": "https://app.acme.com/bye", "kind": "post_logout"})
    listed = api.get(URIS).json()
    assert [(u["kind"], u["uri"], u["default"]) for u in listed["redirect_uris"]] == [
        ("callback", CALLBACK, True),
        ("callback", "https://app.acme.com/callback", False),
        ("post_logout", "https://app.acme.com/bye", True),
    ]
    assert listed["total_size"] == 3
    only = api.get(URIS, params={"kind": "post_logout"}).json()["redirect_uris"]
    assert [u["uri"] for u in only] == ["https://app.acme.com/bye"]
    # removed by JSON body, or by query parameters
    assert api.request("DELETE", URIS, json={"uri": CALLBACK}).json() == {}
    after = api.get(URIS, params={"kind": "callback"}).json()["redirect_uris"]
    assert [(u["uri"], u["default"]) for u in after] == [("https://app.acme.com/callback", True)]
    assert api.delete(URIS, params={"uri": "https://app.acme.com/bye", "kind": "post_logout"}).json() == {}
    assert_error(api.delete(URIS, params={"uri": "https://app.acme.com/bye", "kind": "post_logout"}), 404)


def test_redirect_uri_rules_duplicates_limits_and_last_callback(rt: Runtime, api: TestClient) -> None:
    before = dump(rt.engine)
    found = assert_error(api.post(URIS, json={"uri": "https://*.com/cb?x=1"}), 400, "uri")
    assert "query" in found["uri"] or "wildcard" in found["uri"]
    assert_error(api.post(URIS, json={"uri": "javascript://x"}), 400, "uri")
    assert_error(api.post(URIS, json={"uri": "https://a.com/cb", "kind": "initiate_login"}), 400, "kind")
    assert_error(api.post(URIS, json={"uri": CALLBACK}), 409, "uri")
    assert_error(api.request("DELETE", URIS, json={"uri": CALLBACK}), 400, "uri")  # the last callback URL
    assert_error(api.request("DELETE", URIS), 400, "uri")
    assert_error(api.delete(URIS, params={"uri": CALLBACK, "kind": "nonsense"}), 400, "kind")
    assert dump(rt.engine) == before
    for i in range(4):
        assert api.post(URIS, json={"uri": f"https://app.acme.com/cb{i}"}).status_code == 201
    assert_error(api.post(URIS, json={"uri": "https://app.acme.com/cb-sixth"}), 400, "uri")


def test_initiate_login_uri_is_set_replaced_and_cleared(rt: Runtime, api: TestClient) -> None:
    url = "/api/v1/environment/initiate-login-uri"
    first = api.put(url, json={"uri": "https://app.acme.com/login"})
    assert first.status_code == 200, first.text
    assert first.json()["redirect_uri"]["kind"] == "initiate_login"
    assert api.put(url, json={"uri": "https://app.acme.com/login"}).status_code == 200  # a PUT is repeatable
    api.put(url, json={"uri": "https://app.acme.com/start"})
    listed = api.get(URIS, params={"kind": "initiate_login"}).json()["redirect_uris"]
    assert [u["uri"] for u in listed] == ["https://app.acme.com/start"]
    before = dump(rt.engine)
    assert_error(api.put(url, json={"uri": "https://app.acme.com/start#x"}), 400, "uri")
    assert_error(api.put(url, json={}), 400, "uri")
    assert dump(rt.engine) == before
    assert api.delete(url).json() == {}
    assert api.get(URIS, params={"kind": "initiate_login"}).json()["redirect_uris"] == []
