"""PostgreSQL connections wait a bounded time (store/db.py): a login step runs on the worker's event loop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from entryway.store.db import CONNECT_TIMEOUT_SECONDS, make_engine
from tests.support.databases import POSTGRES_ADMIN_URL


def _connect_params(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _record(_dialect: Any, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        seen.update(kwargs)

    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()
    return seen


def test_a_postgresql_connection_attempt_is_bounded_by_default() -> None:
    assert CONNECT_TIMEOUT_SECONDS == 5
    assert _connect_params(POSTGRES_ADMIN_URL)["connect_timeout"] == 5


def test_a_connect_timeout_in_the_url_wins() -> None:
    url = POSTGRES_ADMIN_URL
    url += ("&" if "?" in url else "?") + "connect_timeout=17"
    assert str(_connect_params(url)["connect_timeout"]) == "17"
