"""The ASGI application: one app serves every environment, routed by the Host header."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entryway import __version__
from entryway.api.routes import router as api_router
from entryway.connectors.oidc.routes import router as oidc_rp_router
from entryway.connectors.saml.routes import router as saml_router
from entryway.connectors.simulator.routes import router as simulator_router
from entryway.dashboard.routes import router as dashboard_router
from entryway.dashboard.session import SignInRequired, sign_in_redirect
from entryway.events.delivery import backlog
from entryway.events.worker import DeliveryWorker
from entryway.jobs.catalog import all_jobs
from entryway.jobs.scheduler import Scheduler, job_states
from entryway.keys.locked import report_if_locked, secrets_unavailable
from entryway.keys.sealing import SealError
from entryway.model.errors import ApiError, FieldViolation, OAuthError
from entryway.observability.json_logs import quiet_libraries
from entryway.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from entryway.observability.observed_app import ObservedApp
from entryway.observability.outage import database_unavailable
from entryway.observability.readiness import readiness
from entryway.observability.unexpected import unexpected_error
from entryway.oidc_provider.routes import router as oidc_router
from entryway.portal.routes import router as portal_router
from entryway.runtime import Runtime
from entryway.services.branding import DEFAULT_BRANDING
from entryway.store.schema_version import head_revision, known_revisions
from entryway.web.brand_assets import router as brand_assets_router
from entryway.web.page_context import PageContextMiddleware
from entryway.web.pages import error_page
from entryway.web.requests import InsecureRequest, UnknownHost
from entryway.web.routing import add_routes_flat
from entryway.web.session_cookies import SessionRefused, refusal_page
from entryway.web.tls_permission import router as tls_permission_router

log = logging.getLogger("entryway")


def create_app(rt: Runtime) -> FastAPI:
    quiet_libraries()  # whatever logging the host process set up, these never log secrets or assertions

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Each server process sends webhooks unless told not to; leases keep several processes from double-sending.
        worker = DeliveryWorker(rt) if rt.settings.webhook_worker else None
        if worker is not None:
            worker.start()
        # The periodic jobs (purges, scans, metadata refresh): one scheduler thread per process, each job run by
        # one instance at a time (jobs/scheduler.py).
        scheduler = Scheduler(rt, all_jobs(rt)) if rt.settings.scheduler else None
        if scheduler is not None:
            scheduler.start()
        # A wrong master key is said at start, in the log; in a thread, so a database that is down delays nothing.
        threading.Thread(target=report_if_locked, args=(rt,), name="entryway-secrets-check", daemon=True).start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                worker.stop()
            # The values this process sealed and has not yet counted in their data keys' rows (keys/seal_counts.py).
            rt.sealer.flush_seal_counts()

    # The request ID and latency middleware wrap even Starlette's error layer (observability/observed_app.py).
    app = ObservedApp(
        metrics=rt.metrics,
        lifespan=lifespan,
        title="Entryway",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        # FastAPI's native OpenTelemetry hooks wrap every request and sync endpoint; Entryway's own metrics
        # (/metrics) and JSON logs are its observability, so they stay off.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = rt

    # The OpenAPI document describes the management API only; browser and protocol endpoints have their own specs.
    # The protocol routes (every login step) are added flat rather than included: web/routing.py.
    for protocol_router in (oidc_router, saml_router, oidc_rp_router, simulator_router):
        add_routes_flat(app, protocol_router)
    app.include_router(portal_router, include_in_schema=False)
    app.include_router(brand_assets_router, include_in_schema=False)
    app.include_router(tls_permission_router, include_in_schema=False)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(dashboard_router, include_in_schema=False)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    head, known = head_revision(), known_revisions()  # read once: the scripts do not change while serving

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        status, body = readiness(rt, head, known)  # observability/readiness.py
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        try:
            with rt.engine.connect() as conn:
                rt.metrics.set_webhook_backlog(*backlog(conn, rt.clock.now()))
                rt.metrics.set_job_states(job_states(conn))
        except (OperationalError, PoolTimeout):  # the counters still go out: they matter most in an outage
            log.warning("webhook backlog and job states not measured: the database is unavailable")
        return Response(rt.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    @app.exception_handler(UnknownHost)
    def unknown_host(request: Request, exc: UnknownHost) -> Response:
        return error_page(
            "Unknown environment",
            f"No Entryway environment is served at {exc.host!r}.",
            code="invalid_request",
            status=404,
            hint="Use the environment URL exactly as Entryway printed it (ENTRYWAY_ENV_URL).",
        )

    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(exc)

    @app.exception_handler(SessionRefused)
    def session_refused(request: Request, exc: SessionRefused) -> Response:
        return refusal_page(exc)

    @app.exception_handler(InsecureRequest)
    def insecure_request(request: Request, exc: InsecureRequest) -> Response:
        # Production is https only: a page load is sent to https; anything else already crossed the wire in
        # clear, so it is refused rather than redirected (a redirected POST would send its body again).
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(exc.https_url, status_code=308, headers={"Cache-Control": "no-store"})
        return error_page(
            "HTTPS required",
            "This environment is served over HTTPS only.",
            code="invalid_request",
            status=400,
            hint=f"Use {exc.https_url.split('?')[0]}.",
            branding=DEFAULT_BRANDING,
        )

    @app.exception_handler(ApiError)
    def api_error(request: Request, exc: ApiError) -> Response:
        if request.url.path.startswith("/portal"):  # a page, not an API call: answer with a page
            detail = "; ".join(v.description for v in exc.violations)
            return error_page(
                "This cannot be done" if exc.status != 404 else "Not found",
                exc.message + (f" ({detail})" if detail else ""),
                code="invalid_request",
                status=exc.status,
                hint="Go back to the portal's home page and try again.",
            )
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(OAuthError)
    def oauth_error(request: Request, exc: OAuthError) -> Response:
        headers = {"Cache-Control": "no-store"}
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="entryway"'
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> Response:
        violations = [
            FieldViolation(".".join(str(p) for p in err["loc"] if p != "body") or "body", err["msg"])
            for err in exc.errors()
        ]
        return JSONResponse(ApiError(400, "The request has invalid fields", violations).body(), status_code=400)

    @app.exception_handler(OperationalError)
    def database_down(request: Request, exc: OperationalError) -> Response:
        return database_unavailable(rt, request, exc)

    @app.exception_handler(PoolTimeout)
    def database_busy(request: Request, exc: PoolTimeout) -> Response:
        return database_unavailable(rt, request, exc)

    @app.exception_handler(DBAPIError)
    def database_ended_the_session(request: Request, exc: DBAPIError) -> Response:
        # Another driver error SQLAlchemy took as a disconnect: PostgreSQL ending a session that sat idle in its
        # transaction (idle_in_transaction_session_timeout, store/server_timeouts.py) is an InternalError. Any
        # other is a defect: re-raised, the outermost layer answers 500 and logs its traceback.
        if exc.connection_invalidated:
            return database_unavailable(rt, request, exc)
        raise exc

    @app.exception_handler(SealError)
    def secrets_locked(request: Request, exc: SealError) -> Response:
        return secrets_unavailable(request, exc)

    # Starlette gives this handler to its outermost error layer, which answers with it and then re-raises, so the
    # server still logs the traceback (with the request ID).
    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error(request, exc)

    # Innermost: pages rendered anywhere below find their request (for branding) through it.
    app.add_middleware(PageContextMiddleware)
    return app
