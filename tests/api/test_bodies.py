"""Request bodies: invalid JSON, non-objects, oversize and foreign content types are 4xx, never 422 or 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from tests.api.checks import assert_error, dump

URL = "/api/v1/organizations"


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"[]", b'"text"', b"42", b"null", b'{"display_name": NaN}', b"\xff\xfe", b"   "],
)
def test_not_a_json_object_is_400(rt: Runtime, api: TestClient, raw: bytes) -> None:
    before = dump(rt.engine)
    assert_error(api.post(URL, content=raw, headers={"Content-Type": "application/json"}), 400, "body")
    assert dump(rt.engine) == before


def test_missing_body_is_400(api: TestClient) -> None:
    assert_error(api.post(URL), 400, "body")


def test_body_over_64_kib_is_413(rt: Runtime, api: TestClient) -> None:
    before = dump(rt.engine)
    big = b'{"display_name": "' + b"x" * (64 * 1024) + b'"}'
    response = api.post(URL, content=big, headers={"Content-Type": "application/json"})
    assert_error(response, 413)

    def chunks():  # no Content-Length: the limit holds while streaming too
        yield b'{"display_name": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    assert_error(api.post(URL, content=chunks(), headers={"Content-Type": "application/json"}), 413)
    assert dump(rt.engine) == before


def test_a_body_just_under_the_limit_is_read(api: TestClient) -> None:
    body = b'{"display_name": "A", "metadata": {"k": "' + b"v" * 1000 + b'"}}'
    assert api.post(URL, content=body, headers={"Content-Type": "application/json"}).status_code == 201


def test_foreign_content_type_is_415(api: TestClient) -> None:
    response = api.post(
        URL, content=b"display_name=Acme", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 415)
    ok = api.post(URL, content=b'{"display_name": "A"}', headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 201
