"""The JSON formatter redacts a `path`, `target` or `url` field whatever a call site passes
(observability/json_logs.py): an absolute URL keeps its origin but not a user:password, and a URL object
(Starlette's `request.url`) is redacted as its text is, rather than printed whole by json.dumps."""

from __future__ import annotations

import json
import logging

from starlette.datastructures import URL

from entryway.observability.json_logs import JsonFormatter

TOKEN = "Zk8Ww4Qb0u7Xn2mJt5Yp9aLc3Ve6Rh1_dQx-2Lm8Np4"
JWT = "eyJhbGciOi.eyJzdWIi.sig"


def _line(**fields: object) -> dict[str, object]:
    record = logging.LogRecord("entryway", logging.ERROR, __file__, 1, "database unavailable", (), None)
    for name, value in fields.items():
        setattr(record, name, value)
    return json.loads(JsonFormatter().format(record))


def test_a_url_object_is_redacted_as_its_text() -> None:
    line = _line(url=URL(f"https://id.example.com/portal/links/{TOKEN}?from=mail"))
    assert line["url"] == "https://id.example.com/portal/links/…?…"


def test_an_absolute_url_keeps_its_origin_and_loses_its_credentials() -> None:
    line = _line(
        target=f"https://ops:hunter2@id.example.com/oidc/logout?id_token_hint={JWT}",
        url=f"http://id.example.com:8000/portal/links/{TOKEN}",
    )
    assert line["target"] == "https://id.example.com/oidc/logout?…"
    assert line["url"] == "http://id.example.com:8000/portal/links/…"


def test_a_fragment_is_dropped_and_a_plain_path_is_shown_as_before() -> None:
    line = _line(path=f"/callback#access_token={JWT}", url="/oauth/authorize", target=None)
    assert (line["path"], line["url"], line["target"]) == ("/callback#…", "/oauth/authorize", None)
