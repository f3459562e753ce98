"""The background worker: sends due webhook deliveries. (The certificate-expiry scan and event retention are
periodic jobs of the scheduler, jobs/catalog.py, run by one instance at a time.)

`entryway serve` and `entryway dev` run one in a thread (unless ENTRYWAY_WEBHOOK_WORKER=0); `entryway webhooks
deliver` runs one in the foreground. Any number may run against one database: claims are leased (delivery.py).
While the database cannot be reached the loop backs off and logs the outage once, not at each poll
(store/outage_backoff.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import SQLAlchemyError

from entryway.events.delivery import Claim, claim_due, deliver
from entryway.runtime import Runtime
from entryway.store.outage_backoff import OutageBackoff

log = logging.getLogger("entryway.events")


class DeliveryWorker:
    def __init__(
        self,
        rt: Runtime,
        *,
        batch: int = 16,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        on_attempt: Callable[[str, str], None] | None = None,
        wait: Callable[[float], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rt = rt
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.on_attempt = on_attempt
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook-send")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The pause between polls; tests pass their own to live through minutes of an outage in moments.
        self._wait = wait or self._stop.wait
        self._outage = OutageBackoff("webhook worker", log, monotonic=monotonic)

    def _send(self, claim: Claim) -> None:
        status = deliver(self.rt, claim)
        if self.on_attempt is not None:
            self.on_attempt(claim.delivery_id, status)

    def run_once(self) -> int:
        """Claim one batch and send it (receivers in parallel); returns how many deliveries were attempted."""
        claims = claim_due(self.rt, self.batch)
        for _ in self._pool.map(self._send, claims):
            pass
        return len(claims)

    def run(self) -> None:
        """Loop until stop(): a full batch is followed at once by the next, an empty one by a short pause."""
        while not self._stop.is_set():
            sent = 0
            pause = self.poll_seconds
            try:
                sent = self.run_once()
            except SQLAlchemyError as exc:  # the database is away: wait longer each time, say so once
                pause = max(pause, self._outage.failed(exc))
            except Exception:
                log.exception("webhook worker: unexpected error; retrying shortly")
            else:
                self._outage.succeeded()
            if sent < self.batch:
                self._wait(pause)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="webhook-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the loop to end; with a timeout, wait for it and for the sends in flight."""
        self._stop.set()
        if timeout <= 0:
            return  # from a signal handler: the loop ends by itself
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
