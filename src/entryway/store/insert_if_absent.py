"""INSERT … ON CONFLICT DO NOTHING on either backend: a row that may already be there, without an error.

Both SQLite and PostgreSQL spell it the same, but SQLAlchemy builds it through each dialect's own insert(),
so the statement is made for the connection it will run on. Unlike catching IntegrityError, a conflict here
does not abort a PostgreSQL transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_if_absent(conn: Connection, table: Table, key: str, **values: Any) -> Any:
    """The INSERT of `values` into `table` that does nothing when a row with the same unique `key` exists."""
    make_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return make_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
