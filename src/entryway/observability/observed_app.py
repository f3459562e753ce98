"""The FastAPI app with the request ID and the latency histogram wrapped around everything.

`app.add_middleware` places a middleware inside Starlette's own outer layers (ServerErrorMiddleware, the body
size limit), and those answer on their own: an unhandled exception's 500 or a 413 would go out without an
X-Request-ID, outside the latency histogram, and the server's traceback line would carry no request ID. The
one request an operator most needs to trace is that one, so these two wrap the whole stack instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from entryway.observability.metrics import LatencyMiddleware, Metrics
from entryway.observability.request_id import RequestIdMiddleware


class ObservedApp(FastAPI):
    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        self._observed_metrics = metrics  # before FastAPI's own set-up, which may build the stack
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIdMiddleware(LatencyMiddleware(super().build_middleware_stack(), self._observed_metrics))
