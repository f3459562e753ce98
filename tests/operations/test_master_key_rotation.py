"""`entryway keys rotate-master` while an instance serves logins: no login fails during the rotation, and
afterwards the old master key is needed by nothing (an instance given only the old key is not ready)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import insert

from entryway.config import new_master_key_text
from entryway.runtime import Runtime
from entryway.store.db import make_engine
from entryway.store.tables import installation_secrets
from tests.conftest import make_settings
from tests.operations.conftest import MASTER_KEY_TEXT, Deployment
from tests.support.instances import ENTRYWAY, Balancer, instance_env, running_instance
from tests.support.login_steps import StepFailed, full_login

pytestmark = pytest.mark.e2e


def _pad_with_sealed_values(deployment: Deployment, count: int) -> None:
    """More sealed rows, so the rotation runs long enough to overlap many logins."""
    engine = make_engine(deployment.database_url)
    try:
        rt = Runtime.build(make_settings(deployment.database_url, deployment.data_dir), engine=engine)
        with engine.begin() as conn:
            for n in range(count):
                name = f"padding-{n}"
                sealed = rt.sealer.seal(b"x" * 32, f"installation_secret:{name}", conn=conn)
                conn.execute(insert(installation_secrets).values(name=name, value=sealed, create_time=rt.clock.now()))
    finally:
        engine.dispose()


def test_rotate_master_while_serving_logins(deployment: Deployment, tmp_path: Path) -> None:
    _pad_with_sealed_values(deployment, 400)
    new_key = new_master_key_text()
    both = deployment.env(ENTRYWAY_MASTER_KEY=new_key, ENTRYWAY_PREVIOUS_MASTER_KEYS=MASTER_KEY_TEXT)
    with running_instance("rolling", both) as instance:
        lb = Balancer(deployment.app.env_url)
        done = threading.Event()
        completed: list[object] = []
        failures: list[str] = []

        def serve_logins() -> None:
            while not done.is_set():
                try:
                    completed.append(full_login(lb, [instance], deployment.app))
                except StepFailed as exc:
                    failures.append(str(exc))

        load = threading.Thread(target=serve_logins)
        load.start()
        try:
            rotation = subprocess.run(
                [ENTRYWAY, "keys", "rotate-master"], env=both, cwd=tmp_path, capture_output=True, text=True, timeout=600
            )
            during = len(completed)
        finally:
            done.set()
            load.join(timeout=60)
            lb.close()
        assert rotation.returncode == 0, rotation.stderr
        assert "re-seal installation secrets: 4" in rotation.stderr  # progress lines, as it goes
        assert "remove ENTRYWAY_PREVIOUS_MASTER_KEYS" in rotation.stderr
        assert not failures, failures
        assert during >= 1

        again = subprocess.run(
            [ENTRYWAY, "keys", "rotate-master", "--json"], env=both, cwd=tmp_path, capture_output=True, text=True
        )
        assert again.returncode == 0 and '"values_resealed": 0' in again.stdout, again.stdout + again.stderr

    only_new = instance_env(deployment.database_url, new_key, deployment.data_dir)
    with running_instance("new-only", only_new) as instance:
        lb = Balancer(deployment.app.env_url)
        try:
            assert lb.http.get(f"{instance.base}/readyz").json()["secrets"] == "ok"
            assert full_login(lb, [instance], deployment.app).tokens["id_token"]
        finally:
            lb.close()

    only_old = instance_env(deployment.database_url, MASTER_KEY_TEXT, deployment.data_dir)
    with running_instance("old-only", only_old) as instance:
        ready = Balancer(deployment.app.env_url).http.get(f"{instance.base}/readyz")
        assert ready.status_code == 503 and ready.json()["secrets"] == "locked"
