"""The replay store: a unique key per assertion ID, shared by every instance, swept once expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from entryway.connectors.saml.replay import forget_expired, remember_assertion
from entryway.runtime import Runtime
from entryway.store.tables import saml_replay


def test_an_assertion_id_is_accepted_once(rt: Runtime) -> None:
    until = rt.clock.now() + timedelta(minutes=5)
    with rt.engine.begin() as db:
        remember_assertion(db, "_a1", "conn_1", until)
    with pytest.raises(IntegrityError), rt.engine.begin() as db:
        remember_assertion(db, "_a1", "conn_2", until)


def test_expired_ids_are_swept_and_live_ones_kept(rt: Runtime) -> None:
    now = rt.clock.now()
    with rt.engine.begin() as db:
        remember_assertion(db, "_old", "conn_1", now - timedelta(seconds=1))
        remember_assertion(db, "_live", "conn_1", now + timedelta(minutes=5))
    with rt.engine.begin() as db:
        assert forget_expired(db, now) == 1
    with rt.engine.connect() as db:
        assert [r.assertion_id for r in db.execute(select(saml_replay.c.assertion_id))] == ["_live"]
