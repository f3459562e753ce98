"""`entryway keys rotate-master`: move every secret at rest from the previous master key to the current one,
while instances keep serving.

Run it once every instance has the new key as ENTRYWAY_MASTER_KEY and the old one in
ENTRYWAY_PREVIOUS_MASTER_KEYS (then each can open values under either). It is resumable: each step skips what
a previous run finished, and each row is rewritten in its own short transaction, so an interruption loses
nothing and logins never wait on it.

1. Re-wrap every data key still wrapped by another master key (the old master is then no longer needed).
2. Make a fresh data key under the current master, once per master key, and retire the others (retired data
   keys still open old values, but seal nothing new).
3. Re-seal every sealed value (keys/sealed_fields.py) that is not under the fresh data key: pre-envelope v1
   values and values under retired data keys. A value that cannot be opened is reported and left as it is.

Its seals count against the fresh key like any other (keys/seal_counts.py): the counts this process has not
written yet are written when it ends, interrupted or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from entryway.keys.sealed_fields import SEALED_FIELDS, SealedField
from entryway.keys.sealing import SealError, data_key_of, unwrap, wrap
from entryway.runtime import Runtime
from entryway.store.server_timeouts import unbounded_statements
from entryway.store.tables import data_keys

BATCH = 200

# progress(stage, done, total): called as work advances, so a long rotation shows where it is.
Progress = Callable[[str, int, int], None]


@dataclass
class RotationReport:
    master_key_id: str
    rewrapped: int = 0
    data_key: str = ""
    data_key_created: bool = False
    resealed: dict[str, int] = field(default_factory=dict)
    already_current: int = 0
    unreadable: list[str] = field(default_factory=list)
    still_under_other_masters: int = 0

    @property
    def complete(self) -> bool:
        return not self.unreadable and self.still_under_other_masters == 0


def rewrap_data_keys(rt: Runtime, progress: Progress) -> int:
    keys = rt.sealer.master_keys
    with rt.engine.connect() as conn:
        pending = conn.execute(
            select(data_keys.c.id).where(data_keys.c.master_key_id != keys.current_id).order_by(data_keys.c.id)
        ).all()
    done = 0
    progress("re-wrap data keys", 0, len(pending))
    for (key_id,) in pending:
        with rt.engine.begin() as conn:
            query = select(data_keys).where(data_keys.c.id == key_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).one()
            if row.master_key_id != keys.current_id:
                master = keys.get(row.master_key_id)
                if master is None:
                    raise SealError(
                        f"data key {key_id} is wrapped by master key {row.master_key_id}, which is neither "
                        "ENTRYWAY_MASTER_KEY nor in ENTRYWAY_PREVIOUS_MASTER_KEYS: add the old key there and run again"
                    )
                material = unwrap(master, key_id, row.wrapped_key)
                conn.execute(
                    update(data_keys)
                    .where(data_keys.c.id == key_id)
                    .values(
                        wrapped_key=wrap(keys.current, key_id, material),
                        master_key_id=keys.current_id,
                        update_time=datetime.now(UTC),
                    )
                )
        done += 1
        progress("re-wrap data keys", done, len(pending))
    return done


def fresh_data_key(rt: Runtime) -> tuple[str, bool]:
    """The active data key made under the current master: made now (and the others retired) if there is none."""
    current = rt.sealer.master_keys.current_id
    with rt.engine.begin() as conn:
        row = conn.execute(
            select(data_keys.c.id)
            .where(data_keys.c.status == "active", data_keys.c.created_under == current)
            .order_by(data_keys.c.create_time.desc(), data_keys.c.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            return str(row.id), False
        key_id = rt.sealer.replace_active_data_key(conn)
    rt.sealer.forget_active()
    return key_id, True


def _reseal_field(
    rt: Runtime, sealed_field: SealedField, target: str, report: RotationReport, progress: Progress
) -> None:
    stage = f"re-seal {sealed_field.name}"
    done = 0
    after: str | None = None
    with rt.engine.connect() as conn:
        # Counted, not fetched: a table of kept upstream ID tokens can hold millions of rows, and counting them may
        # outlast the serving statement_timeout: lifted for this transaction.
        unbounded_statements(conn)
        total = int(conn.execute(select(func.count()).select_from(sealed_field.table)).scalar_one())
    progress(stage, 0, total)
    while True:
        with rt.engine.connect() as conn:
            batch = conn.execute(sealed_field.select_batch(after, BATCH)).all()
        if not batch:
            return
        for row in batch:
            key = str(getattr(row, sealed_field.key.name))
            after = key
            sealed = sealed_field.read(row)
            if sealed is not None and data_key_of(sealed) == target:
                report.already_current += 1
            elif sealed is not None:
                _reseal_row(rt, sealed_field, key, target, report)
            done += 1
        progress(stage, done, total)


def _reseal_row(rt: Runtime, sealed_field: SealedField, key: str, target: str, report: RotationReport) -> None:
    with rt.engine.begin() as conn:
        row = sealed_field.lock_row(conn, key)
        if row is None:
            return  # deleted meanwhile
        sealed = sealed_field.read(row)
        if sealed is None or data_key_of(sealed) == target:
            report.already_current += 1  # changed meanwhile, by a writer that sealed under the fresh key
            return
        context = sealed_field.context(row)
        try:
            plaintext = rt.sealer.open(sealed, context, conn=conn)
        except SealError as exc:
            report.unreadable.append(f"{sealed_field.table.name} {key}: {exc}")
            return
        sealed_field.write(
            conn, key, sealed_field.replacement(row, rt.sealer.seal(plaintext, context, conn=conn, data_key_id=target))
        )
    report.resealed[sealed_field.name] = report.resealed.get(sealed_field.name, 0) + 1


def rotate_master(rt: Runtime, progress: Progress) -> RotationReport:
    report = RotationReport(rt.sealer.master_keys.current_id)
    report.rewrapped = rewrap_data_keys(rt, progress)
    report.data_key, report.data_key_created = fresh_data_key(rt)
    try:
        for sealed_field in SEALED_FIELDS:
            _reseal_field(rt, sealed_field, report.data_key, report, progress)
    finally:
        # A command's process ends without the server's shutdown: the re-seals it has not written yet would be lost.
        rt.sealer.flush_seal_counts()
    with rt.engine.connect() as conn:
        report.still_under_other_masters = len(
            conn.execute(select(data_keys.c.id).where(data_keys.c.master_key_id != report.master_key_id)).all()
        )
    return report


@dataclass(frozen=True)
class DataKeyState:
    id: str
    status: str
    master_key_id: str
    created_under: str
    create_time: datetime
    sealed_count: int | None  # as written by the processes so far; None: made before seals were counted


def data_key_states(rt: Runtime) -> list[DataKeyState]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(data_keys).order_by(data_keys.c.create_time, data_keys.c.id)).all()
    return [DataKeyState(r.id, r.status, r.master_key_id, r.created_under, r.create_time, r.sealed_count) for r in rows]
