"""schema_history: every migration script says whether the previous release's code keeps working after it, and a
migration run records each revision it applies, with that flag, and removes each it undoes (SQLite and
PostgreSQL). /readyz's use of it: tests/observability/test_rolling_readiness.py."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from entryway.store.migrate import alembic_config, upgrade
from entryway.store.schema_history import compatible_chain, previous_of
from entryway.store.schema_version import VERSIONS, current_revision, head_revision
from entryway.store.tables import metadata, schema_history
from tests.support.schema_states import newer_release

FIRST_RECORDED = "0017_schema_history"  # the revisions before it are back-filled, without an applied time


def _declared(path: Path) -> list[object]:
    return [
        ast.literal_eval(node.value)
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["backward_compatible"]
    ]


def test_every_migration_script_declares_whether_it_is_backward_compatible() -> None:
    scripts = sorted(VERSIONS.glob("*.py"))
    assert len(scripts) >= 17
    for path in scripts:
        # A literal in the script, where its reviewer reads it, not a value computed at import.
        assert [type(v) for v in _declared(path)] == [bool], f"{path.name}: add `backward_compatible = True|False`"


def _history(engine: Engine) -> dict[str, tuple[str | None, bool, bool]]:
    """revision -> (previous revision, backward compatible, has an applied time)"""
    with engine.connect() as conn:
        rows = conn.execute(select(schema_history)).all()
    return {r.revision: (r.previous_revision, r.backward_compatible, r.applied_time is not None) for r in rows}


def test_the_migration_creates_back_fills_and_drops_the_history(engine: Engine) -> None:
    config = alembic_config(engine)
    scripts = ScriptDirectory.from_config(config)
    try:
        command.downgrade(config, "0016_scheduled_jobs")
        with engine.connect() as conn:
            assert not inspect(conn).has_table("schema_history")
        assert current_revision(engine) == "0016_scheduled_jobs"
        upgrade(engine)
        first = scripts.get_revision(FIRST_RECORDED)
        before = {s.revision for s in scripts.iterate_revisions(first.down_revision, "base")}
        assert _history(engine) == {
            s.revision: (previous_of(s), s.module.backward_compatible, s.revision not in before)
            for s in scripts.walk_revisions()
        }
    finally:
        upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata) == []


def test_a_newer_release_s_migrations_are_recorded_as_they_run_and_removed_when_undone(
    engine: Engine, tmp_path: Path
) -> None:
    head = head_revision()
    assert head is not None
    config = newer_release(engine, tmp_path / "migrations", head, ("0901_newer", True), ("0902_newer", False))
    try:
        command.upgrade(config, "head")
        history = _history(engine)
        assert history["0901_newer"] == (head, True, True)
        assert history["0902_newer"] == ("0901_newer", False, True)
        command.downgrade(config, "0901_newer")
        assert "0902_newer" not in _history(engine) and "0901_newer" in _history(engine)
    finally:
        command.downgrade(config, head)
    assert current_revision(engine) == head
    assert not {"0901_newer", "0902_newer"} & set(_history(engine))


def test_a_migration_that_does_not_declare_the_flag_is_not_applied(engine: Engine, tmp_path: Path) -> None:
    head = head_revision()
    assert head is not None
    config = newer_release(engine, tmp_path / "migrations", head, ("0901_undeclared", None))
    try:
        with pytest.raises(RuntimeError, match=r"0901_undeclared .* does not declare `backward_compatible = True`"):
            command.upgrade(config, "head")
        assert current_revision(engine) == head  # its transaction was rolled back
    finally:
        command.downgrade(config, head)


def test_the_walk_ends_on_a_gap_a_merge_or_a_cycle() -> None:
    chain = {"c": ("b", True), "b": ("a", True)}
    assert compatible_chain(chain, "c", "a")
    assert not compatible_chain({"c": ("b", True)}, "c", "a")  # no row for b
    assert not compatible_chain({"c": ("a b", True)}, "c", "a")  # a merge's parents
    assert _ends_with(False, {"c": ("b", True), "b": ("c", True)}, "c", "a")  # damaged rows: must end


def _ends_with(expected: bool, chain: dict[str, tuple[str | None, bool]], current: str, head: str) -> bool:
    """Walk in a daemon thread, so that a walk that never ends fails this test instead of hanging the suite."""
    answers: list[bool | BaseException] = []

    def walk() -> None:
        try:
            answers.append(compatible_chain(chain, current, head))
        except BaseException as exc:  # reported as what it is, not as a walk that never ended
            answers.append(exc)

    walker = threading.Thread(target=walk, daemon=True)
    walker.start()
    walker.join(timeout=5)
    assert answers, "the walk did not end within 5 s"
    if isinstance(answers[0], BaseException):
        raise answers[0]
    return answers[0] == expected


def test_a_run_that_fails_part_way_leaves_nothing_and_can_be_run_again(engine: Engine) -> None:
    """A run is one transaction on both backends: when its last migration fails, the ones before it are undone
    too (on SQLite, whose driver commits each CREATE on its own unless the run begins a transaction, the
    schema_history table of 0017 stayed behind, and every later run failed with 'table schema_history already
    exists'). 0018 is made to fail by adding its column beforehand."""
    config = alembic_config(engine)
    command.downgrade(config, "0016_scheduled_jobs")
    # A pooled SQLite connection may still hold the schema from before the downgrade, and SQLite checks an ALTER
    # TABLE against that copy ('duplicate column name'): the test's own DDL goes on fresh connections.
    engine.dispose()
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE data_keys ADD COLUMN sealed_count BIGINT"))
        with pytest.raises(OperationalError if engine.dialect.name == "sqlite" else ProgrammingError):
            upgrade(engine)
        assert current_revision(engine) == "0016_scheduled_jobs"
        with engine.connect() as conn:
            assert not inspect(conn).has_table("schema_history")
    finally:
        with engine.begin() as conn:
            if "sealed_count" in {c["name"] for c in inspect(conn).get_columns("data_keys")}:
                conn.execute(text("ALTER TABLE data_keys DROP COLUMN sealed_count"))
        upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(_history(engine)) >= {FIRST_RECORDED, "0018_sealed_counts"}
