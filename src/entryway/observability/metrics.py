"""Prometheus metrics: logins by outcome and error code, and latency per login step.

Each app gets its own registry, so several apps in one process (tests) never share counters. The workers of
`entryway serve --workers N` share one port, so they count in one directory and any worker's /metrics reports
the sum over all of them (observability/worker_metrics.py).
"""

from __future__ import annotations

import time
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entryway.observability.worker_metrics import shared_directory

# Step buckets: a login step should take milliseconds; the top buckets catch a stalled database.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Why a request was answered 503 for the database (observability/outage.py): a closed set, for the label.
DATABASE_UNAVAILABLE_REASONS: Final = ("unreachable", "timeout", "pool_exhausted")

# The gauges read from the database at each scrape: with several workers, the value of the worker that answers
# the scrape (the most recent) is the fleet's, not one series per worker.
_SCRAPED: Final = "mostrecent"


def step_of(path: str) -> str:
    """The login step (or surface) a path belongs to; a closed set, so label cardinality stays small."""
    if path == "/oauth/authorize":
        return "authorize"
    if path == "/oauth/token":
        return "token"
    if path == "/userinfo":
        return "userinfo"
    if path.startswith("/sso/v1/saml/") and path.endswith("/callback"):
        return "saml_acs"
    if path.startswith("/sso/v1/oidc/") and path.endswith("/callback"):
        return "oidc_callback"
    if path.startswith("/sso/v1/simulator/"):
        return "simulator"
    if path.startswith("/api/"):
        return "api"
    if path in ("/keys", "/.well-known/openid-configuration"):
        return "discovery"
    return "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.logins = Counter(
            "entryway_login_events",
            "Login steps recorded in the auth log (counted once committed), and token requests refused before a "
            "code was looked up, by outcome and contract error code",
            ["outcome", "error_code", "step"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "entryway_request_duration_seconds",
            "Time to answer a request, by login step",
            ["step", "status_class"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.database_unavailable = Counter(
            "entryway_database_unavailable",
            "Requests answered 503 for the database, by reason: unreachable (no connection), timeout (a statement "
            "waited past lock_timeout or statement_timeout), pool_exhausted (every pooled connection taken)",
            ["reason"],
            registry=self.registry,
        )
        # Every reason's series from the start, at 0: increase() then counts a process's first 503 of a kind too,
        # and an alert can name the reason.
        for reason in DATABASE_UNAVAILABLE_REASONS:
            self.database_unavailable.labels(reason)

        self.webhook_attempts = Counter(
            "entryway_webhook_attempts",
            "Webhook delivery attempts made by this process, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        # Read from the database at each scrape (shared by all instances, so any instance reports the backlog).
        self.webhook_backlog = Gauge(
            "entryway_webhook_backlog",
            "Webhook deliveries not yet delivered: all pending ones, and those due now",
            ["state"],
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )
        self.webhook_oldest_due = Gauge(
            "entryway_webhook_oldest_due_seconds",
            "How long the oldest due webhook delivery has been waiting for a worker",
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )

        self.job_runs = Counter(
            "entryway_scheduled_job_runs",
            "Runs of periodic jobs made by this process, by job and outcome (success or failure)",
            ["job", "outcome"],
            registry=self.registry,
        )
        # Read from the database at each scrape: a job runs on one instance at a time, so any instance reports
        # the fleet's view of when each job last ran and how often it failed.
        self.job_last_success = Gauge(
            "entryway_scheduled_job_last_success_timestamp_seconds",
            "When each periodic job last finished without error (Unix time; 0 = never)",
            ["job"],
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )
        self.job_last_run = Gauge(
            "entryway_scheduled_job_last_run_timestamp_seconds",
            "When each periodic job last finished, successfully or not (Unix time; 0 = never)",
            ["job"],
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )
        self.job_failures = Gauge(
            "entryway_scheduled_job_failures",
            "Failed runs of each periodic job, over all instances since the database was created",
            ["job"],
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )
        self.job_consecutive_failures = Gauge(
            "entryway_scheduled_job_consecutive_failures",
            "Failed runs of each periodic job since its last success (alert when this stays above 0)",
            ["job"],
            registry=self.registry,
            multiprocess_mode=_SCRAPED,
        )

    def scheduled_job_run(self, job: str, outcome: str) -> None:
        self.job_runs.labels(job, outcome).inc()

    def set_job_states(self, states: list[dict[str, Any]]) -> None:
        for state in states:
            job = str(state["name"])
            success, finish = state["last_success_time"], state["last_finish_time"]
            self.job_last_success.labels(job).set(success.timestamp() if success else 0)
            self.job_last_run.labels(job).set(finish.timestamp() if finish else 0)
            self.job_failures.labels(job).set(state["failure_count"])
            self.job_consecutive_failures.labels(job).set(state["consecutive_failures"])

    def webhook_attempt(self, outcome: str) -> None:
        self.webhook_attempts.labels(outcome).inc()

    def set_webhook_backlog(self, pending: int, due: int, oldest_due_seconds: float) -> None:
        self.webhook_backlog.labels("pending").set(pending)
        self.webhook_backlog.labels("due").set(due)
        self.webhook_oldest_due.set(oldest_due_seconds)

    def login_event(self, status: str, error_code: str | None, step: str) -> None:
        self.logins.labels(status.lower(), error_code or "", step).inc()

    def exposition(self) -> bytes:
        if shared_directory() is not None:  # every worker's figures, summed (worker_metrics.py)
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


class LatencyMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.latency.labels(step_of(scope["path"]), f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
