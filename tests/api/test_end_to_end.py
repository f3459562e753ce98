"""The management API as an app backend uses it: a real server, a client_credentials token, then API calls."""

from __future__ import annotations

import httpx
import pytest

from entryway.runtime import Runtime
from entryway.services import credentials
from entryway.services.bootstrap import seed_development
from tests.support.server import free_port, running_server


@pytest.mark.e2e
def test_client_credentials_token_drives_the_api(rt: Runtime) -> None:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", "http://localhost:3000/callback")
    assert seed.plain_secret is not None
    with rt.engine.begin() as conn:
        reader = credentials.create_api_client(rt, conn, seed.environment.id, "reader", ["organizations:read"])
        reader_secret, _ = credentials.create_secret(rt, conn, reader)
    with running_server(rt, port) as base, httpx.Client(base_url=base, timeout=10) as http:

        def token(client_id: str, secret: str, scope: str | None = None) -> str:
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
            if scope:
                form["scope"] = scope
            response = http.post("/oauth/token", data=form)
            assert response.status_code == 200, response.text
            return str(response.json()["access_token"])

        app = {"Authorization": f"Bearer {token(seed.client_id, seed.plain_secret)}"}
        created = http.post("/api/v1/organizations", json={"display_name": "Acme", "external_id": "a1"}, headers=app)
        assert created.status_code == 201, created.text
        assert (
            http.get("/api/v1/organizations:external/a1", headers=app).json()["organization"]["display_name"] == "Acme"
        )

        narrowed = {"Authorization": f"Bearer {token(seed.client_id, seed.plain_secret, 'logs:read')}"}
        assert http.get("/api/v1/organizations", headers=narrowed).status_code == 403
        assert http.get("/api/v1/logs/authentication/requests", headers=narrowed).status_code == 200

        limited = {"Authorization": f"Bearer {token(reader.id, reader_secret)}"}
        listed = http.get("/api/v1/organizations", headers=limited)
        assert listed.status_code == 200 and listed.json()["total_size"] == 2
        denied = http.post("/api/v1/organizations", json={"display_name": "No"}, headers=limited)
        assert denied.status_code == 403 and denied.json()["details"][0]["error_code"] == "PERMISSION_DENIED"
