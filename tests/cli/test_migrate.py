"""`entryway migrate` lists what it is about to apply, each migration backward compatible or not, and says whether
the upgrade can be rolling; `--plan` only lists (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

from entryway.runtime import Runtime
from entryway.store.migration_plan import Pending, Plan, describe
from entryway.store.schema_version import current_revision, head_revision
from tests.cli.conftest import Run
from tests.support.schema_states import claimed_revision, history_table_hidden


def test_at_the_head_there_is_nothing_to_apply(run: Run) -> None:
    out = run("migrate").output
    assert f"nothing to apply: the database is at this release's newest migration ({head_revision()})" in out
    assert "database is at the newest migration" in out


def test_the_plan_names_an_incompatible_migration_and_applies_nothing(run: Run, rt: Runtime) -> None:
    with claimed_revision(rt.engine, "0014_config_generation_more"):
        out = run("migrate", "--plan").output
        assert current_revision(rt.engine) == "0014_config_generation_more"  # nothing applied
    lines = out.splitlines()
    assert lines[1].startswith("  0015_idempotency_sealed  NOT backward compatible  idempotency answers sealed")
    assert "  0016_scheduled_jobs      backward compatible      scheduled jobs:" in out
    assert lines[-1].startswith("upgrade: switch-over. Not backward compatible: 0015_idempotency_sealed;")


def test_a_database_before_the_history_means_a_switch_over(run: Run, rt: Runtime) -> None:
    # The release serving a database without schema_history cannot read the flags: it turns unready whatever
    # they say.
    with history_table_hidden(rt.engine), claimed_revision(rt.engine, "0015_idempotency_sealed"):
        out = run("migrate", "--plan").output
    assert out.splitlines()[-1].startswith(
        "upgrade: switch-over. The database is at 0015_idempotency_sealed, before schema_history"
    )


def test_a_rolling_upgrade_needs_every_pending_migration_compatible() -> None:
    compatible = (Pending("0901_a", True, "a"), Pending("0902_b", True, "b"))
    rolling = Plan("0017_schema_history", "0902_b", known=True, history_kept=True, pending=compatible)
    assert describe(rolling)[-1].startswith("upgrade: rolling.")
    one_not = dataclasses.replace(rolling, pending=(*compatible, Pending("0903_c", False, "c")))
    assert describe(one_not)[-1].startswith("upgrade: switch-over. Not backward compatible: 0903_c;")


def test_a_database_a_newer_release_migrated_is_left_alone(run: Run, rt: Runtime) -> None:
    with claimed_revision(rt.engine, "0901_newer"):
        planned = run("migrate", "--plan").output
        failed = run("migrate", ok=False)
        assert current_revision(rt.engine) == "0901_newer"
    assert "the database is at 0901_newer, which this release does not know" in planned
    assert "Error: not migrated: this release does not know revision 0901_newer" in failed.output
