"""An error Entryway did not expect is still answered as a contract error (`server_error`, or the API's INTERNAL)
in the caller's shape, naming the request ID under which the log holds the traceback
(observability/unexpected.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.routing import Route

from entryway.app import create_app
from entryway.runtime import Runtime


async def _boom(_request: object) -> None:
    raise RuntimeError("a bug")


def _client(rt: Runtime) -> TestClient:
    app = create_app(rt)
    # First in the route list, so they win over the real endpoints of those paths.
    for path in ("/api/v1/organizations", "/userinfo", "/oauth/authorize"):
        app.router.routes.insert(0, Route(path, _boom, methods=["GET"]))
    return TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False)


def test_the_management_api_answers_its_contract_body(rt: Runtime) -> None:
    with _client(rt) as http:
        answer = http.get("/api/v1/organizations", headers={"X-Request-ID": "api-500"})
    assert answer.status_code == 500 and answer.headers["x-request-id"] == "api-500"
    body = answer.json()
    assert (body["code"], body["details"][0]["error_code"]) == (13, "INTERNAL")
    assert "request ID api-500" in body["message"]
    assert answer.headers["cache-control"] == "no-store"


def test_an_apps_backend_gets_oauths_server_error(rt: Runtime) -> None:
    with _client(rt) as http:
        answer = http.get("/userinfo", headers={"X-Request-ID": "backend-500"})
    assert answer.status_code == 500
    assert answer.json()["error"] == "server_error"
    assert "request ID backend-500" in answer.json()["error_description"]


def test_a_browser_gets_a_page_naming_the_request_id(rt: Runtime) -> None:
    with _client(rt) as http:
        answer = http.get("/oauth/authorize", headers={"X-Request-ID": "page-500"})
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    assert "server_error" in answer.text and "page-500" in answer.text
    assert "a bug" not in answer.text  # the exception's own text is for the log, not the caller
