"""The HTTP API (``/v1``): upload calls, follow their analysis, read transcripts, timelines and
scores, correct them, pull aggregates and the nightly feed. This module builds the app: error
handling, middleware, health and metrics, the background threads; the routes are in
``routes_calls`` (one call), ``routes_reports`` (lists, aggregates, feed) and ``routes_admin``.

Every ``/v1`` route needs an API key with the right scope (see :mod:`callscope.service.auth`),
checked before the request body is read (:mod:`callscope.api.guard`, which also applies the rate
limits, body-size caps and security headers); ``/healthz`` and ``/readyz`` are open, and
``/metrics`` too unless ``CALLSCOPE_METRICS_TOKEN`` is set. ``/docs`` is served with its own
copy of Swagger UI (``fastapi-offline``): no CDN. The QA app's pages (``/``, ``/calls/{id}``,
``/dashboard``, ``/signin``) and their scripts (``/static``) are served here too
(:mod:`callscope.api.web`). Errors are JSON:
``{"error": {"status": 415, "message": "…", "details": …}}``.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from callscope.alerts.delivery import Dispatcher
from callscope.api.deps import Services, error_response
from callscope.api.guard import RequestGuard
from callscope.api.responses import StatusOut
from callscope.api.routes import admin as routes_admin
from callscope.api.routes import alerts as routes_alerts
from callscope.api.routes import calls as routes_calls
from callscope.api.routes import customers as routes_customers
from callscope.api.routes import evaluations as routes_evaluations
from callscope.api.routes import interactions as routes_interactions
from callscope.api.routes import quality as routes_quality
from callscope.api.routes import reports as routes_reports
from callscope.api.routes import rules as routes_rules
from callscope.api.routes import search as routes_search
from callscope.api.routes import topics as routes_topics
from callscope.api.web import report as web_report
from callscope.api.web import routes as web_routes
from callscope.privacy import access_log
from callscope.privacy.call_keys import CallErased, check_keyring, seal_existing
from callscope.privacy.erasure import purge_older_than
from callscope.privacy.pseudonyms import deployment_secret
from callscope.privacy.secret_box import seal_plain_webhook_secrets
from callscope.qa import spot_checks
from callscope.service.config import ServiceSettings
from callscope.service.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from callscope.service.metrics import ServiceMetrics
from callscope.store import rate_store
from callscope.store.audio_refs import sweep_orphans
from callscope.store.audio_store import AudioStore
from callscope.store.db import make_engine, migrate, secure_files, session_factory, utcnow

log = logging.getLogger("callscope.api")


def create_app(settings: ServiceSettings | None = None, worker_process: Callable[[int], None] | None = None) -> FastAPI:
    """The app. ``worker_process``: the body of a worker process (``callscope serve``'s embedded
    worker, the default there), run in one supervised child process
    (:class:`~callscope.service.worker_pool.WorkerPool`): analyses, their scoring and rule patterns,
    and re-scoring then never run in the API's process, and a worker that dies is replaced."""
    settings = settings or ServiceSettings.from_env()
    migrate(settings.database_url)
    secure_files(settings.data_dir, settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine, keyring_file=settings.keyring_file)
    check_keyring(sessions)
    store = AudioStore(settings.audio_dir)
    metrics = ServiceMetrics(sessions)
    stop = threading.Event()
    pool = None
    if worker_process is not None:
        from callscope.service.worker_pool import WorkerPool

        pool = WorkerPool(worker_process, 1, say=log.warning)

    def housekeeping() -> None:
        """At start: uploads a crash left half-written, and stored files no call holds."""
        try:
            swept = store.sweep_stale_uploads(settings.stale_upload_s)
            orphans = sweep_orphans(sessions, store)
            if swept or orphans:
                log.warning("store: removed %d stale partial uploads and %d files no call held", swept, orphans)
        except Exception:  # noqa: BLE001 - retried at the next start
            log.exception("store clean-up failed")
        try:  # in the background: reads take a value stored in clear as it is meanwhile
            if sealed := seal_existing(sessions):
                log.warning("crypto-shredding: %d rows stored in clear before were sealed under their calls' keys", sealed)
        except Exception:  # noqa: BLE001 - retried at the next start
            log.exception("sealing the rows stored in clear failed")

    def retention_loop() -> None:
        while not stop.is_set():
            try:
                if settings.retention_days is not None:
                    purged = purge_older_than(sessions, store, settings.retention_days, rules=settings.journey_rules)
                    if purged:
                        log.warning("retention: purged %d calls older than %g days", len(purged), settings.retention_days)
                access_log.purge(sessions, settings.access_log_days)
                rate_store.purge_ended(rate_store.counter_sessions(sessions, settings.data_dir))
                with sessions() as s:  # yesterday's QA sample, once
                    drawn = spot_checks.sample_day(s, (utcnow() - timedelta(days=1)).date(), settings.spot_check_share,
                                                   settings.review_delays)
                    s.commit()
                if drawn.get("sampled"):
                    log.info("spot checks: %d of %d calls of %s drawn for review", drawn["sampled"], drawn["calls"],
                             drawn["day"])
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next interval
                log.exception("retention purge failed")
            stop.wait(settings.retention_check_s)

    dispatcher = Dispatcher.for_settings(sessions, settings)
    if dispatcher.secret_key is not None and (sealed := seal_plain_webhook_secrets(sessions, dispatcher.secret_key)):
        log.warning("webhooks: %d secrets stored in clear before were encrypted", sealed)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        threading.Thread(target=housekeeping, name="callscope-housekeeping", daemon=True).start()
        threading.Thread(target=dispatcher.run_forever, name="callscope-alerts", daemon=True).start()
        pool_thread = None
        if pool is not None:
            pool_thread = threading.Thread(target=pool.run, name="callscope-worker-pool", daemon=True)
            pool_thread.start()
        threading.Thread(target=retention_loop, name="callscope-retention", daemon=True).start()
        yield
        stop.set()
        dispatcher.stop.set()
        _app.state.services.rules.close()
        if pool_thread is not None and pool is not None:
            pool.stop()
            pool_thread.join(pool.grace_s + 10)

    app = FastAPIOffline(title="callscope", version="0.1.0", lifespan=lifespan,
                  description="Call analytics: upload recordings, read transcripts, emotion timelines and scores. "
                              "Send an API key as `Authorization: Bearer <key>` or `X-API-Key`; over a rate limit the answer is "
                              "429 with `Retry-After`. Scopes: `read`, `upload`, `review`, `lead`, `agent` (one agent's own "
                              "evaluations only, `GET /v1/me/evaluations`), `admin`.",
                  openapi_tags=[{"name": "qa workflow", "description":
                                 "Evaluation forms (versioned YAML scorecards, automatic answers with evidence and "
                                 "confidence), evaluations (states draft → submitted → acknowledged → disputed → "
                                 "resolved, each with who and when), comments on a moment, the review queue (due "
                                 "times, claims, round robin, the turnaround KPI), calibration sessions and the call "
                                 "report. See docs/qa-workflow.md."},
                                {"name": "customers", "description":
                                 "The customer across contacts, by pseudonym only: journeys, repeat contacts, "
                                 "first-contact resolution, recovery and a transparent churn risk with its "
                                 "evidence. See docs/journeys.md."}])
    app.state.services = Services(settings, sessions, store, metrics, deployment_secret(settings))

    # ---- errors -------------------------------------------------------------------------------
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict):
            return error_response(exc.status_code, detail.get("message", ""), detail.get("details"), exc.headers)
        return error_response(exc.status_code, str(detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid request", _json_safe(exc.errors()))

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character, which PostgreSQL cannot store in text
        return error_response(400, "a value in the request cannot be stored or compared by the database",
                              str(exc.orig).splitlines()[0] if exc.orig else None)

    @app.exception_handler(CallErased)
    async def erased_meanwhile(_request: Request, exc: CallErased) -> JSONResponse:
        # a read that raced an erasure: the row was read, its key was gone when its text was opened
        return error_response(404, f"call {exc.call_id} was erased")

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next):
        # PostgreSQL cannot store or compare text with NUL characters: refuse them alike on every database
        if "%00" in request.url.query or "\x00" in request.url.path or "%00" in request.scope.get("raw_path", b"").decode("latin-1"):
            return error_response(400, "NUL characters are not allowed in the path or query")
        return await call_next(request)

    @app.middleware("http")
    async def measure(request: Request, call_next):
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.observe(request.method, getattr(route, "path", "(unmatched)"), response.status_code, time.perf_counter() - t0)
        return response

    # ---- health and metrics -------------------------------------------------------------------
    @app.get("/healthz", response_model=StatusOut)
    async def healthz() -> dict:
        """Liveness: answered on the event loop, with no I/O and no rate-limit count."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=None, responses={200: {"model": StatusOut}, 503: {"description": "the database is not reachable"}})
    def readyz() -> JSONResponse:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            return error_response(503, f"database not reachable: {type(exc).__name__}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", response_class=Response,
             responses={200: {"description": "Prometheus text exposition format",
                              "content": {METRICS_CONTENT_TYPE: {"schema": {"type": "string"}}}}})
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus text format: request counts and latency, jobs and calls by status, queue age.
        With ``CALLSCOPE_METRICS_TOKEN`` set, send it as ``Authorization: Bearer <token>``."""
        token = settings.metrics_token
        if token:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return error_response(401, "metrics need the scrape token: 'Authorization: Bearer <CALLSCOPE_METRICS_TOKEN>'",
                                      headers={"WWW-Authenticate": "Bearer"})
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    for module in (routes_calls, routes_reports, routes_admin, routes_rules, routes_alerts, routes_quality,
                   routes_evaluations, routes_topics, routes_search, routes_customers, routes_interactions, web_report,
                   web_routes):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=web_routes.STATIC_DIR), name="static")
    app.add_middleware(CompressText)  # JSON, pages and scripts; never audio (byte ranges) or feeds (streamed)
    app.add_middleware(RequestGuard, services=app.state.services)  # outermost: before any body is read
    return app


class CompressText:
    """gzip for answers a browser reads whole (pages, scripts, JSON), not for audio, which the
    player fetches by byte ranges, nor for the streamed feeds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        plain = path.endswith("/audio") or path.startswith("/v1/feeds")
        await (self.app if plain or scope["type"] != "http" else self.gzip)(scope, receive, send)


def _json_safe(value, depth: int = 0):
    """Validation error details made JSON-safe: non-finite numbers (NaN, Infinity) and objects
    become strings, long inputs are cut (the body echoes what was sent, not more)."""
    if depth > 20:
        return "…"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (int, bool)) or value is None:
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in list(value)[:50]]
    return _json_safe(str(value), depth + 1)
