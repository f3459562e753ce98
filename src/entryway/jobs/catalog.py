"""The server's periodic jobs, run by the one scheduler of each process (jobs/scheduler.py).

Intervals come from ENTRYWAY_JOB_<NAME>_SECONDS (config.JOB_INTERVALS has the names and defaults; 0 turns a
job off, e.g. for an operator who runs `entryway logs purge` from cron instead). docs/deployment.md lists them.
"""

from __future__ import annotations

from entryway.connectors.saml import metadata_schedule
from entryway.events.certificate_expiry import scan_certificates
from entryway.events.retention import purge_events
from entryway.jobs.login_state import purge_expired_login_state
from entryway.jobs.scheduler import Job
from entryway.keys.data_key_rollover import roll_data_key
from entryway.runtime import Runtime
from entryway.services.auth_log_retention import purge_all


def _certificate_scan(rt: Runtime) -> int:
    return len(scan_certificates(rt))


def _metadata_refresh(rt: Runtime) -> int:
    return len(metadata_schedule.refresh_pending(rt))


def all_jobs(rt: Runtime) -> list[Job]:
    """The jobs this installation runs, with their configured intervals (jobs set to 0 are left out)."""
    every = rt.settings.job_seconds
    jobs = [
        # Short, frequent: expired auth requests, codes, sessions and replay records pile up with every login.
        Job("login_state_purge", purge_expired_login_state, every["login_state_purge"], first_delay=60),
        Job("auth_log_purge", purge_all, every["auth_log_purge"], first_delay=300),
        Job("event_retention", purge_events, every["event_retention"], first_delay=300),
        # Reads every SAML connection: hourly, and not in the first minutes of serving.
        Job("certificate_scan", _certificate_scan, every["certificate_scan"], first_delay=600),
        # Looks at one row; a new data key is due at 30 days, or at 2^30 values sealed, which the process whose
        # count reaches it sees first (keys/data_key_rollover.py): daily is the backstop.
        Job("data_key_rollover", roll_data_key, every["data_key_rollover"], first_delay=900),
    ]
    if rt.settings.metadata_refresh_seconds > 0:
        jobs += [
            Job("metadata_schedule", metadata_schedule.schedule_new, every["metadata_schedule"], first_delay=300),
            Job("metadata_refresh", _metadata_refresh, every["metadata_refresh"], first_delay=60, jitter=0.5),
        ]
    return [job for job in jobs if job.interval > 0]
