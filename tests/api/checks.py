"""Assertions on contract-shaped answers, and a dump of every table to prove a rejected call changed nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select

from entryway.store.tables import metadata


def violations(response: httpx.Response) -> dict[str, str]:
    """field -> description of a 400's field violations."""
    body = response.json()
    out: dict[str, str] = {}
    for detail in body["details"]:
        for v in detail.get("validation_error_info", {}).get("field_violations", []):
            out[v["field"]] = v["description"]
    return out


def assert_error(response: httpx.Response, status: int, *fields: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert isinstance(body["code"], int) and body["message"]
    found = violations(response)
    for name in fields:
        assert name in found, (name, found)
    return found


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }
