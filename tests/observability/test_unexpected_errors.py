"""An error Entryway did not expect is still answered as a contract error (`server_error`, or the API's INTERNAL)
in the caller's shape, naming the request ID under which the log holds the traceback
(observability/unexpected.py)."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy import text
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


def test_a_database_error_that_is_no_outage_is_still_the_callers_server_error(rt: Runtime) -> None:
    """app.py answers a driver error SQLAlchemy took as a disconnect with the outage's 503 and re-raises any other
    DBAPIError: a defect such as a broken constraint must still reach the caller as its server_error, with the
    request ID, not as a 503 that says to retry nor as Starlette's bare text."""
    tables = itertools.count()

    async def _duplicate(_request: object) -> None:
        table = f"review_duplicate_{next(tables)}"  # a fresh one each time: a temporary table outlives its request
        with rt.engine.begin() as conn:
            conn.execute(text(f"CREATE TEMPORARY TABLE {table} (x INTEGER PRIMARY KEY)"))
            conn.execute(text(f"INSERT INTO {table} VALUES (1)"))
            conn.execute(text(f"INSERT INTO {table} VALUES (1)"))  # IntegrityError: a DBAPIError, no disconnect

    app = create_app(rt)
    for path in ("/api/v1/organizations", "/userinfo", "/oauth/authorize"):
        app.router.routes.insert(0, Route(path, _duplicate, methods=["GET"]))
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as http:
        api = http.get("/api/v1/organizations", headers={"X-Request-ID": "db-api-500"})
        backend = http.get("/userinfo", headers={"X-Request-ID": "db-backend-500"})
        page = http.get("/oauth/authorize", headers={"X-Request-ID": "db-page-500"})
    assert (api.status_code, api.json()["details"][0]["error_code"]) == (500, "INTERNAL")
    assert api.headers["x-request-id"] == "db-api-500" and "request ID db-api-500" in api.json()["message"]
    assert (backend.status_code, backend.json()["error"]) == (500, "server_error")
    assert "request ID db-backend-500" in backend.json()["error_description"]
    assert page.status_code == 500 and "server_error" in page.text and "db-page-500" in page.text
    assert "retry-after" not in api.headers and "retry-after" not in backend.headers
