"""Client secrets over the API: shown once, never their hash; limits; who may manage whose secrets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import credentials, environments
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error, dump
from tests.api.conftest import client_with, token_for


def base(client_id: str) -> str:
    return f"/api/v1/clients/{client_id}/secrets"


def test_create_shows_the_secret_once_and_it_works(rt: Runtime, api: TestClient, seed: DevSeed) -> None:
    response = api.post(base(seed.client_id))
    assert response.status_code == 201, response.text
    body = response.json()
    plain, secret = body["plain_secret"], body["secret"]
    assert plain.startswith("ews_") and secret["id"].startswith("sec_")
    assert secret["secret_suffix"] == plain[-4:] and secret["status"] == "ACTIVE"
    assert "secret_hash" not in secret and "plain_secret" not in secret
    assert credentials.authenticate_client(rt, seed.client_id, plain) is not None
    listed = api.get(base(seed.client_id)).json()
    assert listed["total_size"] == 2
    assert plain not in str(listed) and credentials.hash_secret(plain) not in str(listed)
    assert all(set(s) >= {"id", "secret_suffix", "status", "create_time", "last_used_time"} for s in listed["secrets"])


def test_expiry_must_be_a_future_aware_timestamp(rt: Runtime, api: TestClient, seed: DevSeed) -> None:
    before = dump(rt.engine)
    assert_error(api.post(base(seed.client_id), json={"expire_time": "2001-01-01T00:00:00Z"}), 400, "expire_time")
    assert_error(api.post(base(seed.client_id), json={"expire_time": "2099-01-01T00:00:00"}), 400, "expire_time")
    assert_error(api.post(base(seed.client_id), json={"expire_time": "soon"}), 400, "expire_time")
    assert dump(rt.engine) == before
    made = api.post(base(seed.client_id), json={"expire_time": "2099-01-01T00:00:00+02:00"}).json()
    assert made["secret"]["expire_time"] == "2098-12-31T22:00:00Z"


def test_deactivate_activate_delete_and_the_limit(rt: Runtime, api: TestClient, seed: DevSeed) -> None:
    second = api.post(base(seed.client_id)).json()["secret"]["id"]
    before = dump(rt.engine)
    assert_error(api.post(base(seed.client_id)), 400, "client_id")  # the app client keeps at most 2 active
    assert dump(rt.engine) == before
    off = api.put(f"{base(seed.client_id)}/{second}", json={"status": "INACTIVE"})
    assert off.status_code == 200 and off.json()["secret"]["status"] == "INACTIVE"
    third = api.post(base(seed.client_id)).json()["secret"]["id"]
    assert_error(api.put(f"{base(seed.client_id)}/{second}", json={"status": "ACTIVE"}), 400, "status")
    assert_error(api.put(f"{base(seed.client_id)}/{second}", json={"status": "active"}), 400, "status")
    assert_error(api.put(f"{base(seed.client_id)}/{second}", json={}), 400, "status")
    assert api.delete(f"{base(seed.client_id)}/{third}").json() == {}
    assert api.put(f"{base(seed.client_id)}/{second}", json={"status": "ACTIVE"}).status_code == 200
    assert_error(api.delete(f"{base(seed.client_id)}/{third}"), 404)
    assert_error(api.put(f"{base(seed.client_id)}/sec_nope", json={"status": "ACTIVE"}), 404)


def test_list_pages(api: TestClient, rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        client = credentials.create_api_client(rt, conn, seed.environment.id, "ci", ["*"])
        for _ in range(5):
            credentials.create_secret(rt, conn, client)
    first = api.get(base(client.id), params={"page_size": 3}).json()
    rest = api.get(base(client.id), params={"page_size": 3, "page_token": first["next_page_token"]}).json()
    ids = [s["id"] for s in first["secrets"] + rest["secrets"]]
    assert len(ids) == 5 == len(set(ids)) and first["total_size"] == 5 and rest["next_page_token"] == ""


def test_clients_of_other_environments_are_404(rt: Runtime, api: TestClient) -> None:
    with rt.engine.begin() as conn:
        _, other_client = environments.create_environment(
            rt, conn, env_type=EnvironmentType.DEVELOPMENT, url="http://other.localhost:9000", display_name="Other"
        )
    assert_error(api.get(base(other_client)), 404)
    assert_error(api.post(base(other_client)), 404)
    assert_error(api.get(base("skc_nope")), 404)


def test_a_limited_client_cannot_mint_secrets_for_a_stronger_one(rt: Runtime, seed: DevSeed) -> None:
    with rt.engine.begin() as conn:
        rotator = credentials.create_api_client(
            rt, conn, seed.environment.id, "rotator", ["clients:read", "clients:write"]
        )
    before = dump(rt.engine)
    with client_with(rt, seed, token_for(rt, seed, ["*"], client_id=rotator.id)) as api:
        assert_error(api.post(base(seed.client_id)), 403)
        assert api.get(base(seed.client_id)).status_code == 200
        assert dump(rt.engine) == before
        assert api.post(base(rotator.id)).status_code == 201  # its own secrets: yes
