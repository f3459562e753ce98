"""Request IDs: propagated from X-Request-ID when sane, made otherwise, echoed, and on every JSON log line."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.observability.json_logs import JsonFormatter
from entryway.observability.request_id import choose_request_id, current_request_id
from entryway.runtime import Runtime


def test_a_sane_request_id_is_kept_and_echoed(rt: Runtime) -> None:
    client = TestClient(create_app(rt))
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.def:9"})
    assert response.headers["x-request-id"] == "abc-123.def:9"


def test_a_missing_or_hostile_request_id_is_replaced(rt: Runtime) -> None:
    client = TestClient(create_app(rt))
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "x\tinjected {json}"}).headers["x-request-id"]
    assert hostile != "x\tinjected {json}" and len(hostile) == 32


def test_choose_request_id_bounds() -> None:
    assert choose_request_id("a" * 128) == "a" * 128
    assert choose_request_id("a" * 129) != "a" * 129
    assert choose_request_id("") != ""


def test_json_log_line_carries_request_id_and_extra_fields() -> None:
    record = logging.LogRecord("entryway.test", logging.WARNING, __file__, 1, "login failed: %s", ("x",), None)
    record.error_code = "invalid_status"
    token = current_request_id.set("req-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["message"] == "login failed: x"
    assert line["request_id"] == "req-42"
    assert line["error_code"] == "invalid_status"
    assert line["level"] == "warning"


def test_access_log_drops_query_strings() -> None:
    """`/oidc/logout?id_token_hint=<JWT>` must not put the token in the access log."""
    from entryway.observability.json_logs import RedactQueryStrings

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/oidc/logout?id_token_hint=eyJhbGciOi.eyJzdWIi.sig", "1.1", 302),
        None,
    )
    RedactQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /oidc/logout?… HTTP/1.1" 302'
