"""No loss across a process restart: the delivering process is killed mid-way, a new one finishes the work."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from entryway.events import endpoints
from entryway.runtime import Runtime
from entryway.services import organizations
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import webhook_deliveries
from tests.conftest import TEST_MASTER_KEY
from tests.events.receiver import receiver
from tests.support.log_scan import scan_process_output

EVENTS = 12


def _worker(rt: Runtime, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENTRYWAY_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "ENTRYWAY_MASTER_KEY": base64.urlsafe_b64encode(TEST_MASTER_KEY).decode(),
        "ENTRYWAY_DATA_DIR": str(data_dir),
        "ENTRYWAY_ALLOW_PRIVATE_FETCH": "1",
        "ENTRYWAY_WEBHOOK_TIMEOUT_SECONDS": "1",
        "ENTRYWAY_WEBHOOK_LEASE_SECONDS": "2",
    }
    command = [sys.executable, "-m", "entryway.cli", "webhooks", "deliver", "--concurrency", "1"]
    return subprocess.Popen(command, env=env, cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _statuses(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return list(conn.scalars(select(webhook_deliveries.c.status)))


def test_killing_the_worker_mid_delivery_loses_nothing(rt: Runtime, seed: DevSeed, tmp_path: Path) -> None:
    with receiver() as hook:
        hook.default = (200, 0.4)  # slow enough to be killed while sending
        with rt.engine.begin() as conn:
            endpoints.create_endpoint(rt, conn, seed.environment, url=hook.url, event_types=["organization.created"])
            for i in range(EVENTS):
                organizations.create_organization(rt, conn, seed.environment.id, display_name=f"Org {i}")
        with rt.engine.connect() as conn:
            wanted = set(conn.scalars(select(webhook_deliveries.c.event_id)))
        first = _worker(rt, tmp_path)
        try:
            hook.wait_for(3, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)  # no chance to finish, release leases or record the attempt
            first.wait(10)
            scan_process_output("webhook-worker", first.stderr.read().decode() if first.stderr else "")
        assert len(set(hook.ids())) < EVENTS  # it really was stopped part-way
        assert "PENDING" in _statuses(rt)

        second = _worker(rt, tmp_path)
        try:
            deadline = time.monotonic() + 90
            while set(_statuses(rt)) != {"SUCCEEDED"}:
                assert second.poll() is None, second.stderr.read() if second.stderr else ""
                assert time.monotonic() < deadline, f"not all delivered: {_statuses(rt)}"
                time.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=30)
            scan_process_output("webhook-worker", err.decode())
    assert second.returncode == 0, err.decode()
    assert b"delivered" in out
    ids = hook.ids()
    assert set(ids) == wanted  # every event arrived
    # At least once: only the delivery in flight when the first worker was killed may arrive twice.
    assert len(ids) - len(set(ids)) <= 1
