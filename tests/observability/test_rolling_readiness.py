"""/readyz during a rolling upgrade (SQLite and PostgreSQL): an instance whose code is older than its database
stays ready ("ahead_compatible") only while every migration applied after its head is recorded in schema_history
as backward compatible; otherwise it is unready ("ahead"), as when nothing can tell."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.store.schema_version import head_revision
from tests.support.schema_states import claimed_revision, history_table_hidden, newer_release, record_history

HEAD = head_revision()
READY = {"status": "ok", "database": "ok", "migrations": "ahead_compatible", "secrets": "ok"}
AHEAD = {"status": "unavailable", "database": "ok", "migrations": "ahead", "secrets": "unknown"}


@pytest.mark.parametrize(
    ("flags", "status", "body"),
    [((True, True), 200, READY), ((True, False), 503, AHEAD), ((False, True), 503, AHEAD)],
    ids=["all-compatible", "last-incompatible", "first-incompatible"],
)
def test_a_database_migrated_further_by_a_newer_release(
    rt: Runtime, tmp_path: Path, flags: tuple[bool, bool], status: int, body: dict[str, str]
) -> None:
    """The newer release's own migration run records its migrations (env.py's hook), as in production."""
    assert HEAD is not None
    scripts = (("0901_newer", flags[0]), ("0902_newer", flags[1]))
    config = newer_release(rt.engine, tmp_path / "migrations", HEAD, *scripts)
    client = TestClient(create_app(rt))
    try:
        command.upgrade(config, "head")
        response = client.get("/readyz")
    finally:
        command.downgrade(config, HEAD)
    assert (response.status_code, response.json()) == (status, body)
    assert client.get("/readyz").json()["migrations"] == "current"  # the newer migrations undone


@pytest.mark.parametrize(
    ("rows", "status", "body"),
    [
        ([("0901_newer", HEAD, True), ("0902_newer", "0901_newer", True)], 200, READY),
        ([("0902_newer", "0901_newer", True)], 503, AHEAD),  # no record of 0901: it may be anything
        ([("0901_newer", None, True), ("0902_newer", "0901_newer", True)], 503, AHEAD),  # not after this head
    ],
    ids=["recorded", "gap", "other-chain"],
)
def test_only_an_unbroken_record_back_to_this_release_s_head_is_trusted(
    rt: Runtime, rows: list[tuple[str, str | None, bool]], status: int, body: dict[str, str]
) -> None:
    record_history(rt.engine, *rows)
    with claimed_revision(rt.engine, "0902_newer"):
        response = TestClient(create_app(rt)).get("/readyz")
    assert (response.status_code, response.json()) == (status, body)


def test_not_ready_ahead_of_a_database_without_the_history(rt: Runtime) -> None:
    with history_table_hidden(rt.engine), claimed_revision(rt.engine, "0901_newer"):
        response = TestClient(create_app(rt)).get("/readyz")
    assert (response.status_code, response.json()) == (503, AHEAD)  # not a 500, not "unreachable"


def test_ahead_compatible_still_needs_the_master_key(rt: Runtime) -> None:
    seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")  # seals under a data key
    other = dataclasses.replace(rt.settings, master_key=os.urandom(32))
    record_history(rt.engine, ("0901_newer", HEAD, True))
    with claimed_revision(rt.engine, "0901_newer"):
        response = TestClient(create_app(Runtime.build(other, engine=rt.engine))).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {**READY, "status": "unavailable", "secrets": "locked"}
