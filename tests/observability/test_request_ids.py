"""Request IDs: propagated from X-Request-ID when sane, made otherwise, echoed, and on every JSON log line."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.observability.json_logs import JsonFormatter, RedactUrlCredentials
from entryway.observability.request_id import choose_request_id, current_request_id
from entryway.runtime import Runtime
from tests.support.server import free_port


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


def _access_line(target: str) -> str:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", target, "1.1", 302),
        None,
    )
    RedactUrlCredentials().filter(record)
    return record.getMessage()


def test_access_log_drops_query_strings() -> None:
    """`/oidc/logout?id_token_hint=<JWT>` must not put the token in the access log."""
    line = _access_line("/oidc/logout?id_token_hint=eyJhbGciOi.eyJzdWIi.sig")
    assert line == '127.0.0.1:5000 - "GET /oidc/logout?… HTTP/1.1" 302'


def test_access_log_drops_the_token_of_a_portal_link() -> None:
    """A shareable portal link opens its organization's admin portal for 7 days: its token is in the path."""
    token = "Zk8Ww4Qb0u7Xn2mJt5Yp9aLc3Ve6Rh1_dQx-2Lm8Np4"
    assert _access_line(f"/portal/links/{token}") == '127.0.0.1:5000 - "GET /portal/links/… HTTP/1.1" 302'
    assert _access_line(f"/portal/links/{token}?x=1") == '127.0.0.1:5000 - "GET /portal/links/…?… HTTP/1.1" 302'
    assert _access_line("/portal/connections") == '127.0.0.1:5000 - "GET /portal/connections HTTP/1.1" 302'


def test_a_trailing_newline_is_not_sane() -> None:
    """`$` matches before a final newline: an ID like "abc\\n" must not reach a log line or a header."""
    assert choose_request_id("abc\n") != "abc\n"
    assert choose_request_id("abc\n").isalnum()


class _JsonLines(logging.Handler):
    """Formats each record when it is emitted, as the production handler does: the request ID is read then."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.formatter_.format(record)))


@contextmanager
def _captured(*names: str) -> Iterator[_JsonLines]:
    handler = _JsonLines()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _boom() -> None:
    raise RuntimeError("a bug")


def test_every_line_of_a_served_request_carries_its_id_even_on_an_unhandled_error(rt: Runtime) -> None:
    """Through a real uvicorn, as `entryway serve` runs it: the access line, the app's lines and the server's
    traceback line of a request that crashed all carry its ID, and so does its 500."""
    app = create_app(rt)
    app.add_api_route("/boom", _boom)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="info", lifespan="off")
    server = uvicorn.Server(config)
    with _captured("uvicorn.error", "uvicorn.access", "entryway") as captured:
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.02)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                crashed = http.get("/boom", headers={"X-Request-ID": "trace-500", "Connection": "close"})
                made = http.get("/healthz").headers["x-request-id"]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    assert crashed.status_code == 500 and crashed.headers["x-request-id"] == "trace-500"
    traceback_lines = [line for line in captured.lines if "Exception in ASGI application" in line["message"]]
    assert [line.get("request_id") for line in traceback_lines] == ["trace-500"]
    access = [line for line in captured.lines if line["logger"] == "uvicorn.access"]
    assert {line.get("request_id") for line in access} == {"trace-500", made}, access


def test_a_json_line_redacts_a_credential_in_any_path_field() -> None:
    """A log call that passes a request's path as a field is redacted by the formatter itself, so a new call site
    that forgets `redacted_target` still prints no portal link's token and no query."""
    token = "Zk8Ww4Qb0u7Xn2mJt5Yp9aLc3Ve6Rh1_dQx-2Lm8Np4"
    record = logging.LogRecord("entryway", logging.ERROR, __file__, 1, "database unavailable", (), None)
    record.path = f"/portal/links/{token}"
    record.url = "/oidc/logout?id_token_hint=eyJhbGciOi.eyJzdWIi.sig"
    record.reason = f"/portal/links/{token}"  # not a path field: printed as given
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/portal/links/…"
    assert line["url"] == "/oidc/logout?…"
    assert line["reason"] == record.reason
