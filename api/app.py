"""The HTTP API (``/v1``): upload calls, follow their analysis, read transcripts, timelines and
scores, correct them, pull aggregates and the nightly feed.

Every ``/v1`` route needs an API key with the right scope (see :mod:`callscope.api.auth`);
``/healthz``, ``/readyz`` and ``/metrics`` are open. Errors are JSON:
``{"error": {"status": 415, "message": "…", "details": …}}``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Body, Depends, FastAPI, File, Form, HTTPException, Path, Query, Request, Response, Security, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import String, case, exists, func, select, text, update
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from callscope.api import jobs
from callscope.api.audio_store import AudioStore, TooLarge
from callscope.api.auth import ANONYMOUS_ADMIN, SCOPES, Principal, create_key, describe, verify
from callscope.api.call_columns import write_scores
from callscope.api.config import ServiceSettings
from callscope.api.corrections import CorrectionIn, Label, annotate, apply_corrections, corrections_of, current_value, record
from callscope.api.db import ApiKey, Call, CallEmotion, Correction, make_engine, migrate, session_factory, utcnow
from callscope.api.erasure import erase_call, purge_older_than
from callscope.api.feed import FEED_COLUMNS, MEDIA_TYPES as FEED_MEDIA_TYPES, call_time, day_bounds, encode, feed_rows
from callscope.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE, ServiceMetrics
from callscope.api.sniff import MEDIA_TYPES, audio_kind
from callscope.schema import CallAnalysis

log = logging.getLogger("callscope.api")
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # dates outside are refused, not overflowed


class CallRef(BaseModel):
    id: str
    filename: str
    status: str
    status_url: str
    existing: bool


class UploadResponse(BaseModel):
    calls: list[CallRef]


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="who or what uses the key")
    scopes: list[str] = Field(min_length=1, description=f"any of {', '.join(SCOPES)}")


#: Operations that take a call id, for OpenAPI links (clients and fuzzers follow them).
_CALL_OPERATIONS = ("get_call", "get_transcript", "get_timeline", "get_audio", "correct_call", "list_corrections")


def _links(call_id: str) -> dict:
    return {op: {"operationId": op, "parameters": {"call_id": call_id}} for op in _CALL_OPERATIONS}


def _error(status: int, message: str, details=None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, "details": details}}, status_code=status,
                        headers=headers)


def _check_days(*days: date | None) -> None:
    for d in days:
        if d is not None and not FIRST_DAY <= d <= LAST_DAY:
            raise HTTPException(400, f"date {d.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")


def _clean_name(filename: str | None) -> str:
    """The last path part of an uploaded file's name, without control characters (display only)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f")[:255]
    return name if name not in ("", ".", "..") else "upload"


_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def _principal(request: Request,
               creds: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
               key: Annotated[str | None, Security(_header_key)] = None) -> Principal:
    """Who calls: the key's principal (401 without a valid key), or an admin when auth is off."""
    if not request.app.state.settings.auth:
        return ANONYMOUS_ADMIN
    presented = creds.credentials if creds else key
    if not presented:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    who = verify(request.app.state.sessions, presented)
    if who is None:
        raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return who


def _scope(name: str):
    def check(who: Annotated[Principal, Depends(_principal)]) -> Principal:
        if not who.allows(name):
            raise HTTPException(403, f"API key '{who.name}' lacks the '{name}' scope (it has: {', '.join(sorted(who.scopes))})")
        return who

    return check


Reader = Annotated[Principal, Depends(_scope("read"))]
Uploader = Annotated[Principal, Depends(_scope("upload"))]
Reviewer = Annotated[Principal, Depends(_scope("review"))]
Admin = Annotated[Principal, Depends(_scope("admin"))]
CallId = Annotated[str, Path(max_length=36, description="a call id from POST /v1/calls")]


def create_app(settings: ServiceSettings | None = None, inline_worker: bool = False) -> FastAPI:
    """The app. ``inline_worker`` runs one worker thread in this process (the embedded default)."""
    settings = settings or ServiceSettings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    store = AudioStore(settings.audio_dir)
    metrics = ServiceMetrics(sessions)
    stop = threading.Event()
    worker = None
    if inline_worker:
        from callscope.api.worker import Worker

        worker = Worker(settings)

    def retention_loop() -> None:
        while not stop.is_set():
            try:
                purged = purge_older_than(sessions, store, settings.retention_days)
                if purged:
                    log.warning("retention: purged %d calls older than %g days", len(purged), settings.retention_days)
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next interval
                log.exception("retention purge failed")
            stop.wait(settings.retention_check_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if worker is not None:
            threading.Thread(target=worker.run_forever, name="callscope-worker", daemon=True).start()
        if settings.retention_days is not None:
            threading.Thread(target=retention_loop, name="callscope-retention", daemon=True).start()
        yield
        stop.set()
        if worker is not None:
            worker.stop.set()

    app = FastAPI(title="callscope", version="0.1.0", lifespan=lifespan,
                  description="Call analytics: upload recordings, read transcripts, emotion timelines and scores. "
                              "Send an API key as `Authorization: Bearer <key>` or `X-API-Key`.")
    app.state.settings = settings
    app.state.sessions = sessions

    # ---- errors -------------------------------------------------------------------------------
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict):
            return _error(exc.status_code, detail.get("message", ""), detail.get("details"), exc.headers)
        return _error(exc.status_code, str(detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid request", json.loads(json.dumps(exc.errors(), default=str)))

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character, which PostgreSQL cannot store in text
        return _error(400, "a value in the request cannot be stored or compared by the database",
                      str(exc.orig).splitlines()[0] if exc.orig else None)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next):
        # PostgreSQL cannot store or compare text with NUL characters: refuse them alike on every database
        if "%00" in request.url.query or "\x00" in request.url.path or "%00" in request.scope.get("raw_path", b"").decode("latin-1"):
            return _error(400, "NUL characters are not allowed in the path or query")
        return await call_next(request)

    @app.middleware("http")
    async def measure(request: Request, call_next):
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.observe(request.method, getattr(route, "path", "(unmatched)"), response.status_code, time.perf_counter() - t0)
        return response

    # ---- health and metrics -------------------------------------------------------------------
    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            return _error(503, f"database not reachable: {type(exc).__name__}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", response_class=Response)
    def prometheus_metrics() -> Response:
        """Prometheus text format: request counts and latency, jobs and calls by status, queue age."""
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    # ---- upload -------------------------------------------------------------------------------
    @app.post("/v1/calls", status_code=202, response_model=UploadResponse,
              responses={202: {"description": "accepted", "links": _links("$response.body#/calls/0/id")}})
    def upload_calls(
        _who: Uploader,
        files: Annotated[list[UploadFile], File(description="one or more recordings")],
        agent_id: Annotated[str | None, Form(max_length=200)] = None,
        team: Annotated[str | None, Form(max_length=200)] = None,
        queue: Annotated[str | None, Form(max_length=200)] = None,
        product: Annotated[str | None, Form(max_length=200)] = None,
        channel: Annotated[str | None, Form(max_length=100)] = None,
        external_id: Annotated[str | None, Form(max_length=200)] = None,
        recorded_at: Annotated[datetime | None, Form(description="ISO 8601; without a zone it is taken as UTC")] = None,
        channel_map: Annotated[str | None, Form(max_length=100, pattern=r"^(agent|customer)(,(agent|customer))*$")] = None,
    ) -> UploadResponse:
        """Upload recordings with their metadata; analysis runs in the background. The same
        content with the same ``external_id`` returns the existing call instead of a new one.
        Nothing is stored unless every file is accepted."""
        if len(files) > settings.max_files_per_request:
            raise HTTPException(413, f"{len(files)} files in one request; the limit is {settings.max_files_per_request}")
        metadata = {"agent_id": agent_id, "team": team, "queue": queue, "product": product, "channel": channel,
                    "external_id": external_id}
        if any(v and "\x00" in v for v in metadata.values()):  # PostgreSQL cannot store NUL: refuse it on every database
            raise HTTPException(422, {"message": "metadata must not contain NUL characters",
                                      "details": [k for k, v in metadata.items() if v and "\x00" in v]})
        if recorded_at is not None:
            recorded_at = recorded_at.replace(tzinfo=timezone.utc) if recorded_at.tzinfo is None else recorded_at
            _check_days(recorded_at.date())
            recorded_at = recorded_at.astimezone(timezone.utc)
        stored, refs, problems = [], [], []
        for f in files:
            name = _clean_name(f.filename)
            try:
                key, sha, size = store.put(f.file, settings.max_upload_bytes)
            except TooLarge:
                problems.append((413, name, f"larger than the limit of {settings.max_upload_bytes // (1024 * 1024)} MB"))
                continue
            stored.append(key)
            if size == 0:
                problems.append((400, name, "file is empty (0 bytes)"))
            elif audio_kind(store.head(key)) is None:
                problems.append((415, name, "not an audio file (WAV, MP3, FLAC, Ogg/Opus, M4A)"))
            else:
                refs.append((name, key, sha, size))
        with sessions() as s:
            if problems:
                referenced = set(s.execute(select(Call.audio_key).where(Call.audio_key.in_(stored))).scalars())
                for key in set(stored) - referenced:
                    store.delete(key)
                status = max(p[0] for p in problems) if len({p[0] for p in problems}) > 1 else problems[0][0]
                raise HTTPException(status, {"message": "; ".join(f"{n}: {m}" for _, n, m in problems),
                                             "details": [{"file": n, "status": c, "reason": m} for c, n, m in problems]})
            out = []
            for name, key, sha, size in refs:
                existing = None
                if external_id:
                    existing = s.execute(select(Call).where(Call.sha256 == sha, Call.external_id == external_id)).scalar_one_or_none()
                if existing is not None:
                    out.append(CallRef(id=existing.id, filename=existing.filename, status=existing.status,
                                       status_url=f"/v1/calls/{existing.id}", existing=True))
                    continue
                call = Call(id=str(uuid.uuid4()), sha256=sha, external_id=external_id, filename=name, audio_key=key,
                            size_bytes=size, agent_id=agent_id, team=team, queue=queue, product=product, channel=channel,
                            channel_map=channel_map, recorded_at=recorded_at, status="queued", progress=0.0)
                s.add(call)
                s.flush()
                jobs.enqueue(s, call.id)
                out.append(CallRef(id=call.id, filename=name, status="queued", status_url=f"/v1/calls/{call.id}", existing=False))
            s.commit()
        metrics.uploaded.inc(sum(not r.existing for r in out))
        return UploadResponse(calls=out)

    # ---- one call -----------------------------------------------------------------------------
    def _get(call_id: str) -> Call:
        with sessions() as s:
            call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        return call

    def _analysis(call: Call) -> tuple[dict, list[Correction]]:
        """The call's analysis as JSON, with QA corrections applied, and the corrections."""
        if call.status != "done" or not call.result_json:
            raise HTTPException(409, f"call {call.id} is {call.status}" + (f": {call.error}" if call.error else ""))
        with sessions() as s:
            corrections = corrections_of(s, call.id)
        if not corrections:
            return json.loads(call.result_json), corrections
        corrected = apply_corrections(CallAnalysis.model_validate_json(call.result_json), corrections)
        return corrected.model_dump(mode="json"), corrections

    @app.get("/v1/calls/{call_id}", operation_id="get_call")
    def get_call(call_id: CallId, _who: Reader) -> dict:
        """Status, progress (stage and 0..1), metadata and, once done, the scores (with QA
        corrections applied; ``corrections`` counts them)."""
        call = _get(call_id)
        body = {
            "id": call.id, "filename": call.filename, "status": call.status, "stage": call.stage,
            "progress": call.progress, "error": call.error, "external_id": call.external_id,
            "metadata": {"agent_id": call.agent_id, "team": call.team, "queue": call.queue, "product": call.product,
                         "channel": call.channel, "channel_map": call.channel_map,
                         "recorded_at": call.recorded_at.isoformat() if call.recorded_at else None},
            "duration_s": call.duration_s, "escalation": call.escalation, "customer_sentiment": call.customer_sentiment,
            "links": {"transcript": f"/v1/calls/{call.id}/transcript", "timeline": f"/v1/calls/{call.id}/timeline",
                      "audio": f"/v1/calls/{call.id}/audio", "corrections": f"/v1/calls/{call.id}/corrections"},
        }
        if call.status == "done" and call.result_json:
            result, corrections = _analysis(call)
            body["scores"] = {"call": result.get("call_scores"), "speakers": result.get("speaker_scores")}
            body["corrections"] = len(corrections)
        return body

    @app.get("/v1/calls/{call_id}/transcript", operation_id="get_transcript")
    def get_transcript(call_id: CallId, _who: Reader) -> dict:
        """Utterances with words, speakers and per-utterance scores; a corrected utterance has
        ``corrected``: per field, the original value, the reviewer, when and why."""
        r, corrections = _analysis(_get(call_id))
        body = {k: r[k] for k in ("file", "duration_s", "channel_layout", "speakers", "utterances", "engine", "model")}
        return annotate(body, corrections)

    @app.get("/v1/calls/{call_id}/timeline", operation_id="get_timeline")
    def get_timeline(call_id: CallId, _who: Reader) -> dict:
        r, _ = _analysis(_get(call_id))
        return {"duration_s": r["duration_s"], "timeline": r["timeline"]}

    @app.get("/v1/calls/{call_id}/audio", response_class=FileResponse, operation_id="get_audio")
    def get_audio(call_id: CallId, _who: Reader) -> FileResponse:
        call = _get(call_id)
        path = store.path(call.audio_key)
        if not path.is_file():
            raise HTTPException(410, f"the audio of call {call_id} is no longer stored")
        kind = audio_kind(store.head(call.audio_key)) or "wav"
        return FileResponse(path, media_type=MEDIA_TYPES[kind], filename=call.filename)

    # ---- corrections --------------------------------------------------------------------------
    @app.post("/v1/calls/{call_id}/corrections", status_code=201, operation_id="correct_call")
    def correct(call_id: CallId, who: Reviewer, correction: Annotated[CorrectionIn, Body()]) -> dict:
        """A QA reviewer overrides an utterance's sentiment (-1..+1) and/or emotion label, or the
        call's escalation level. The analysis keeps its original values; reads, lists, feeds and
        aggregates show the corrected ones. Returns the stored corrections and the call's scores."""
        with sessions() as s:
            call = s.execute(select(Call).where(Call.id == call_id).with_for_update()).scalar_one_or_none()
            if call is None:
                raise HTTPException(404, f"no call {call_id}")
            if call.status != "done" or not call.result_json:
                raise HTTPException(409, f"call {call_id} is {call.status}: only analysed calls can be corrected")
            original = CallAnalysis.model_validate_json(call.result_json)
            i = correction.utterance
            if i is not None and (i >= len(original.utterances) or original.utterances[i].sentiment is None):
                raise HTTPException(422, f"call {call_id} has no scored utterance {i} (it has {len(original.utterances)})")
            rows = [Correction(call_id=call_id, utterance=i, field=field, original=json.dumps(current_value(original, i, field)),
                               value=json.dumps(value), reviewer=correction.reviewer or who.name, reason=correction.reason,
                               api_key_id=who.key_id, created_at=utcnow())
                    for field, value in correction.fields().items()]
            s.add_all(rows)
            s.flush()
            corrected = apply_corrections(original, corrections_of(s, call_id))
            write_scores(s, call_id, corrected)
            s.commit()
            return {"corrections": [record(r) for r in rows], "escalation": corrected.call_scores.escalation.model_dump()
                    if corrected.call_scores else None,
                    "speakers": [sp.model_dump(include={"speaker", "role", "sentiment_mean", "emotion_shares"})
                                 for sp in corrected.speaker_scores]}

    @app.get("/v1/calls/{call_id}/corrections", operation_id="list_corrections")
    def list_corrections(call_id: CallId, _who: Reader) -> dict:
        """Every correction of the call, oldest first: who, when, why, the value before (as
        analysed) and the value set. The newest per utterance and field is in force."""
        _get(call_id)
        with sessions() as s:
            return {"call_id": call_id, "corrections": [record(c) for c in corrections_of(s, call_id)]}

    # ---- lists, aggregates, feed --------------------------------------------------------------
    def _cursor_encode(c: Call) -> str:
        return base64.urlsafe_b64encode(f"{c.created_at.isoformat()}|{c.id}".encode()).decode()

    def _cursor_decode(cursor: str) -> tuple[datetime, str]:
        try:
            when, call_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
            return datetime.fromisoformat(when), call_id
        except Exception as exc:  # noqa: BLE001
            raise HTTPException(400, "invalid cursor: pass the next_cursor of a previous page") from exc

    @app.get("/v1/calls", responses={200: {"description": "a page of calls", "links": _links("$response.body#/calls/0/id")}})
    def list_calls(
        _who: Reader,
        agent_id: str | None = None, team: str | None = None, queue: str | None = None, product: str | None = None,
        status: str | None = Query(None, pattern="^(queued|running|done|failed)$"),
        escalation: str | None = Query(None, pattern="^(green|yellow|orange|red)$"),
        emotion: Annotated[Label | None, Query(description="calls in which this role showed this emotion")] = None,
        emotion_role: Annotated[str, Query(pattern="^(customer|agent)$")] = "customer",
        emotion_min_share: Annotated[float, Query(ge=0.0, le=1.0, description="least share of the role's talk time with that emotion")] = 0.0,
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = None,
    ) -> dict:
        """Calls, newest upload first, filtered; ``next_cursor`` fetches the next page."""
        _check_days(date_from, date_to)
        q = select(Call)
        for column, value in ((Call.agent_id, agent_id), (Call.team, team), (Call.queue, queue), (Call.product, product),
                              (Call.status, status), (Call.escalation, escalation)):
            if value is not None:
                q = q.where(column == value)
        if emotion is not None:
            q = q.where(exists().where(CallEmotion.call_id == Call.id, CallEmotion.role == emotion_role,
                                       CallEmotion.label == emotion, CallEmotion.share >= max(emotion_min_share, 1e-9)))
        if date_from:
            q = q.where(call_time() >= day_bounds(date_from)[0])
        if date_to:
            q = q.where(call_time() < day_bounds(date_to)[1])
        if cursor:
            when, last_id = _cursor_decode(cursor)
            q = q.where((Call.created_at < when) | ((Call.created_at == when) & (Call.id < last_id)))
        with sessions() as s:
            calls = s.execute(q.order_by(Call.created_at.desc(), Call.id.desc()).limit(limit + 1)).scalars().all()
        page = calls[:limit]
        return {
            "calls": [{"id": c.id, "filename": c.filename, "status": c.status, "external_id": c.external_id,
                       "agent_id": c.agent_id, "team": c.team, "queue": c.queue, "escalation": c.escalation,
                       "customer_sentiment": c.customer_sentiment, "duration_s": c.duration_s,
                       "url": f"/v1/calls/{c.id}"} for c in page],
            "next_cursor": _cursor_encode(page[-1]) if len(calls) > limit else None,
        }

    GROUPS = {"agent": Call.agent_id, "team": Call.team, "queue": Call.queue, "product": Call.product}

    def _aggregate(group_by: str, start: datetime, end: datetime) -> dict[str, dict]:
        # the session's zone is UTC on PostgreSQL and times are stored in UTC on SQLite
        key = func.substr(func.cast(call_time(), String), 1, 10) if group_by == "day" else GROUPS[group_by]
        levels = {lvl: func.sum(case((Call.escalation == lvl, 1), else_=0)) for lvl in ("green", "yellow", "orange", "red")}
        q = (select(key, func.count(), func.avg(Call.customer_sentiment), func.avg(Call.agent_talk_share),
                    func.avg(Call.silence_share), *levels.values())
             .where(Call.status == "done", call_time() >= start, call_time() < end).group_by(key))
        out = {}
        with sessions() as s:
            for row in s.execute(q):
                n = row[1]
                out[str(row[0]) if row[0] is not None else "(none)"] = {
                    "calls": n,
                    "mean_customer_sentiment": None if row[2] is None else round(float(row[2]), 4),
                    "mean_agent_talk_share": None if row[3] is None else round(float(row[3]), 4),
                    "mean_silence_share": None if row[4] is None else round(float(row[4]), 4),
                    "escalation_share": {lvl: round(int(v or 0) / n, 4) for lvl, v in zip(levels, row[5:])},
                }
        return out

    @app.get("/v1/aggregates")
    def aggregates(
        _who: Reader,
        group_by: Annotated[str, Query(pattern="^(agent|team|queue|day|product)$")],
        date_from: Annotated[date, Query(alias="from")],
        date_to: Annotated[date, Query(alias="to", description="inclusive")],
    ) -> dict:
        """Per group: call count, mean customer sentiment, agent talk share, silence share, share per
        escalation level (QA corrections applied), and the change in mean customer sentiment
        against the previous period of the same length."""
        _check_days(date_from, date_to)
        if date_to < date_from:
            raise HTTPException(400, "'to' is before 'from'")
        start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
        days = (date_to - date_from).days + 1
        if start - timedelta(days=days) < day_bounds(FIRST_DAY)[0]:
            raise HTTPException(400, f"the previous period would start before {FIRST_DAY.isoformat()}")
        current = _aggregate(group_by, start, end)
        previous = _aggregate(group_by, start - timedelta(days=days), start)
        for name, g in current.items():
            before = previous.get(name, {}).get("mean_customer_sentiment")
            now = g["mean_customer_sentiment"]
            g["previous_mean_customer_sentiment"] = before
            g["trend"] = None if before is None or now is None else round(now - before, 4)
        return {"group_by": group_by, "from": date_from.isoformat(), "to": date_to.isoformat(), "groups": current}

    @app.get("/v1/feeds/daily", response_class=StreamingResponse)
    def daily_feed(
        _who: Reader,
        day: Annotated[date, Query(alias="date")],
        format: str = Query("ndjson", pattern="^(ndjson|csv|parquet)$"),
    ) -> StreamingResponse:
        """The day's call-score feed (UTC day of the call, QA corrections applied), streamed;
        columns: see ``X-Feed-Columns``."""
        _check_days(day)
        return StreamingResponse(encode(feed_rows(sessions, day), format), media_type=FEED_MEDIA_TYPES[format],
                                 headers={"Content-Disposition": f'attachment; filename="callscope-{day.isoformat()}.{format}"',
                                          "X-Feed-Columns": ",".join(FEED_COLUMNS)})

    # ---- erasure and retention ----------------------------------------------------------------
    @app.delete("/v1/calls/{call_id}")
    def delete_call(call_id: CallId, _who: Admin) -> dict:
        """Erase a call (GDPR): its audio (unless another call holds the same bytes), transcript,
        scores, corrections and jobs."""
        gone = erase_call(sessions, store, call_id)
        if gone is None:
            raise HTTPException(404, f"no call {call_id}")
        return gone

    @app.post("/v1/admin/purge")
    def purge(_who: Admin, older_than_days: Annotated[float | None, Query(gt=0, le=365_000)] = None) -> dict:
        """Erase every call older than ``older_than_days`` (default: the retention setting) by
        call time, except calls being analysed now."""
        days = older_than_days if older_than_days is not None else settings.retention_days
        if days is None:
            raise HTTPException(400, "no retention set: pass older_than_days or set CALLSCOPE_RETENTION_DAYS")
        purged = purge_older_than(sessions, store, days)
        return {"older_than_days": days, "purged": len(purged), "call_ids": purged}

    # ---- API keys -----------------------------------------------------------------------------
    @app.post("/v1/keys", status_code=201)
    def new_key(body: KeyIn, _who: Admin) -> dict:
        """Create a key. The key is in this response only; it is stored hashed."""
        try:
            with sessions() as s:
                row, key = create_key(s, body.name, body.scopes)
                s.commit()
                return {**describe(row), "key": key}
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc

    @app.get("/v1/keys")
    def list_keys(_who: Admin) -> dict:
        with sessions() as s:
            return {"keys": [describe(k) for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]}

    @app.delete("/v1/keys/{key_id}")
    def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _who: Admin) -> dict:
        """Revoke a key; requests with it get 401 from now on."""
        with sessions() as s:
            done = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
            s.commit()
            if done.rowcount != 1:
                raise HTTPException(404, f"no active key {key_id}")
        return {"revoked": key_id}

    return app
