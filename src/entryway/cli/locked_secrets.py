"""A command that needs a stored secret this process's master keys cannot open: which key it lacks, and what to do.

The server logs the same condition as "stored secrets are locked: ..." (keys/locked.py) and answers 503; a
command has one person reading it, who can give it the right key. A SealError's text, and lock_problem's, names
data keys and master key ids (hashes), never key material or a secret.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from entryway.keys.sealing import Sealer, SealError

HINT = (
    "Give this command the master key the secrets are encrypted under as ENTRYWAY_MASTER_KEY (during a master "
    "key rotation, the previous one in ENTRYWAY_PREVIOUS_MASTER_KEYS); `entryway keys master-status` lists the "
    "master key each data key needs."
)


def explain(exc: SealError, sealer: Sealer, outcome: str) -> str:
    try:
        # Names the master key a data key in use is wrapped by and this process lacks, when that is the cause.
        problem = sealer.lock_problem()
    except SQLAlchemyError:
        problem = str(exc)  # the database failed meanwhile: the SealError's own text says what it can
    if problem is not None:
        return f"stored secrets are locked: {problem}; {outcome}.\n  {HINT}"
    # Every data key opens: this value itself cannot be opened (damaged, or copied from another row).
    return (
        f"a stored secret could not be opened: {exc}; {outcome}.\n"
        "  This process's master keys open every data key, so the value itself is damaged or was copied from "
        "elsewhere: set it again (for a connection's secret or key, update the connection)."
    )
