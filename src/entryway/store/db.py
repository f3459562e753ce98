"""Engine creation: one engine per process, tuned for SQLite (WAL, foreign keys) or PostgreSQL (a pool)."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError

from entryway.store import server_timeouts

# Seconds to wait for a PostgreSQL connection before the request fails (503) and the next one tries again.
CONNECT_TIMEOUT_SECONDS = 5
# Seconds after which an open connection whose server stopped answering altogether (its host crashed, or is cut
# off: no packet comes back, and no error either) is given up, and its request answered 503. Without a bound
# TCP keeps retrying for about 15 minutes, and every request on such a connection waits that long. A server that
# is merely slow still acknowledges: a long query or a lock wait is cut short by the server's own timeouts
# instead (store/server_timeouts.py).
DEAD_PEER_SECONDS = 10
# libpq's TCP settings for that: what is sent must be acknowledged within DEAD_PEER_SECONDS, and a connection
# waiting for an answer (or idle in the pool) probes its peer after 5 s of silence, every 2 s, so a reply lost
# with its host is noticed too.
_DEAD_PEER = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": DEAD_PEER_SECONDS * 1000,
}

# Connections a process may hold at once, on either backend. The request threads (anyio's 40) outnumber them on
# purpose: many of those threads wait on an IdP, not the database (an OIDC callback, up to 8 s), and capping them
# at the pool's size would let one slow IdP stall every other tenant's logins. So a burst of requests that do
# need the database may queue for a connection; a checkout gives up after POOL_TIMEOUT_SECONDS and the request is
# answered 503 with Retry-After (observability/outage.py), never a 500.
POOL_SIZE = 10
POOL_OVERFLOW = 20
POOL_TIMEOUT_SECONDS = 10


def _pool_defaults(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if path != ":memory:" and url.rstrip("/") not in ("sqlite:", "sqlite+pysqlite:"):
            _pool_defaults(kwargs)  # a file database gets a QueuePool (5 + 10 by default): the same limits
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    _pool_defaults(kwargs)
    # No pre-ping: it costs a round trip on every checkout (~10% of a login). A connection that ended while it sat
    # in the pool (PostgreSQL restarted, a failover, a silent host) is found without one (_closed_by_server); one
    # that ends in use fails its query, SQLAlchemy then invalidates the whole pool, and the request is answered
    # 503 (app.py).
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    # libpq waits for a connection, or an answer, as long as TCP does (minutes, against a host that drops
    # packets), and a login step runs on the worker's event loop (web/step_runner.py): the waits must be
    # bounded. A parameter given in the URL wins.
    bounds = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **_DEAD_PEER}
    given = make_url(url).query
    kwargs["connect_args"] = {
        **{name: value for name, value in bounds.items() if name not in given},
        **kwargs.get("connect_args", {}),
    }
    engine = create_engine(url, **kwargs)
    # Each new connection gets lock_timeout, statement_timeout and idle_in_transaction_session_timeout, unless
    # the operator set them (the URL's options, the role, the database, postgresql.conf): one round trip when
    # the connection is opened, none per checkout.
    event.listen(engine, "connect", server_timeouts.apply_defaults())
    event.listen(engine, "checkout", _replace_if_closed_by_server)
    return engine


def _closed_by_server(dbapi_conn: Any) -> bool:
    """Whether this idle PostgreSQL connection is over, asked of its socket rather than of the server.

    An idle connection is sent nothing, unless the server is ending it: a restart or a failover sends each of its
    connections a FATAL message and closes them; and the keepalive probes end a connection whose host went
    silent (DEAD_PEER_SECONDS). Either way its socket reads as ready. Without this check, the first request
    after the database came back failed with a 503 on a healthy database. A readable socket is taken as over:
    the rare message a live server may send an idle connection (a setting it reports, changed by a reload)
    costs one reconnection, never a failed request."""
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (psycopg.Error, OSError, ValueError):  # a connection psycopg knows is broken, a closed descriptor
        return True


def _replace_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    # The pool takes DisconnectionError as "discard this connection and open another" (twice at most); if the
    # database is still down, opening one fails with OperationalError and the request is answered 503.
    if _closed_by_server(dbapi_conn):
        raise DisconnectionError("this pooled connection was closed while idle")


def read_connection(engine: Engine) -> Connection:
    """A connection whose statements each commit on their own: autocommit on PostgreSQL, so a read is one round
    trip instead of three (BEGIN, the SELECT, then ROLLBACK when the connection goes back to the pool), and a
    single-statement write needs no BEGIN and COMMIT (store/write_batch.py). With 100,000 organizations nearly
    every login loads its route, so on a busy database this is most of a cache miss's cost. Each statement sees
    committed data, as it would inside a READ COMMITTED transaction.

    SQLite gets a plain connection: its driver begins no transaction for a SELECT, so each read already sees the
    latest commit, and switching to autocommit and back cost a PRAGMA statement on every miss. Write on it only
    inside `conn.begin()`."""
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        return conn
    return conn.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A login step's reads before its write batch: on PostgreSQL `read_connection`'s autocommit, one round trip
    a statement; on SQLite a transaction SQLAlchemy begins without a statement (pysqlite sends BEGIN only before
    a write), in which HotStatement runs on the driver's cursor (store/hot_statements.py)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            yield conn
    else:
        with read_connection(engine) as conn:
            yield conn
