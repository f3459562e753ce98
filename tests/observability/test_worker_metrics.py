"""The workers of `entryway serve --workers N` report one set of figures: a scrape, whichever worker answers it,
shows the sum of every worker's counts (observability/worker_metrics.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from entryway.cli import main, server
from entryway.observability import worker_metrics
from entryway.observability.metrics import Metrics

# A worker: counts one refused token request, times it, and reads the webhook backlog (as a scrape would).
_WORKER = """
import sys
from entryway.observability.metrics import Metrics
metrics = Metrics()
metrics.login_event("FAILED", "invalid_client", "token")
metrics.latency.labels("token", "4xx").observe(0.02)
metrics.set_webhook_backlog(int(sys.argv[1]), 0, 0.0)
"""


def _run_worker(directory: Path, backlog: int) -> None:
    env = {**os.environ, worker_metrics.ENV: str(directory)}
    subprocess.run([sys.executable, "-c", _WORKER, str(backlog)], env=env, check=True, timeout=60)


def test_any_worker_reports_the_sum_of_all_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run_worker(tmp_path, backlog=7)
    _run_worker(tmp_path, backlog=5)  # the later scrape's reading of the shared queue
    monkeypatch.setenv(worker_metrics.ENV, str(tmp_path))
    lines = Metrics().exposition().decode().splitlines()
    assert 'entryway_login_events_total{error_code="invalid_client",outcome="failed",step="token"} 2.0' in lines
    assert 'entryway_request_duration_seconds_count{status_class="4xx",step="token"} 2.0' in lines
    # Read from the database at each scrape, so the most recent reading, not one series per worker.
    backlog = [line for line in lines if line.startswith("entryway_webhook_backlog{")]
    assert sorted(backlog) == [
        'entryway_webhook_backlog{state="due"} 0.0',
        'entryway_webhook_backlog{state="pending"} 5.0',
    ]


def test_one_process_reports_its_own_figures_without_a_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(worker_metrics.ENV, raising=False)
    metrics = Metrics()
    metrics.login_event("FAILED", "invalid_grant", "token")
    body = metrics.exposition().decode()
    assert 'entryway_login_events_total{error_code="invalid_grant",outcome="failed",step="token"} 1.0' in body


def test_serve_with_several_workers_counts_in_a_fresh_directory_removed_at_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(worker_metrics.ENV, raising=False)
    seen: list[tuple[str, list[str]]] = []

    def workers_started(config: object) -> None:  # what the workers inherit when uvicorn spawns them
        directory = os.environ[worker_metrics.ENV]
        seen.append((directory, os.listdir(directory)))

    monkeypatch.setattr(server, "run_workers", workers_started)
    # serve's JSON logging would replace the root handlers, the run-wide log scan's among them.
    monkeypatch.setattr(server.json_logs, "configure", lambda *args, **kwargs: None)
    monkeypatch.setenv("ENTRYWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ENTRYWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("ENTRYWAY_MASTER_KEY", "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    [(directory, files)] = seen
    assert files == []  # fresh: no figures of an earlier run
    assert not Path(directory).exists()
    assert worker_metrics.ENV not in os.environ
