"""The HTTP API (``/v1``): upload calls, follow their analysis, read transcripts and timelines.

Errors are JSON: ``{"error": {"status": 415, "message": "…", "details": …}}``.
"""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import base64
from datetime import date, timedelta

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import String, case, delete, func, select, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from callscope.api import jobs
from callscope.api.audio_store import AudioStore, TooLarge
from callscope.api.config import ServiceSettings
from callscope.api.db import Call, Job, make_engine, migrate, session_factory
from callscope.api.feed import FEED_COLUMNS, call_time, day_bounds, encode, feed_rows
from callscope.api.sniff import MEDIA_TYPES, audio_kind


class CallRef(BaseModel):
    id: str
    filename: str
    status: str
    status_url: str
    existing: bool


class UploadResponse(BaseModel):
    calls: list[CallRef]


def _error(status: int, message: str, details=None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, "details": details}}, status_code=status)


def create_app(settings: ServiceSettings | None = None, inline_worker: bool = False) -> FastAPI:
    """The app. ``inline_worker`` runs one worker thread in this process (the embedded default)."""
    settings = settings or ServiceSettings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    store = AudioStore(settings.audio_dir)
    worker = None
    if inline_worker:
        from callscope.api.worker import Worker

        worker = Worker(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if worker is not None:
            threading.Thread(target=worker.run_forever, name="callscope-worker", daemon=True).start()
        yield
        if worker is not None:
            worker.stop.set()

    app = FastAPI(title="callscope", version="0.1.0", lifespan=lifespan,
                  description="Call analytics: upload recordings, read transcripts, emotion timelines and scores.")
    app.state.settings = settings

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail) if not isinstance(exc.detail, dict) else exc.detail.get("message", ""),
                      exc.detail.get("details") if isinstance(exc.detail, dict) else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid request", json.loads(json.dumps(exc.errors(), default=str)))

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

    @app.post("/v1/calls", status_code=202, response_model=UploadResponse)
    def upload_calls(
        files: Annotated[list[UploadFile], File(description="one or more recordings")],
        agent_id: Annotated[str | None, Form(max_length=200)] = None,
        team: Annotated[str | None, Form(max_length=200)] = None,
        queue: Annotated[str | None, Form(max_length=200)] = None,
        product: Annotated[str | None, Form(max_length=200)] = None,
        channel: Annotated[str | None, Form(max_length=100)] = None,
        external_id: Annotated[str | None, Form(max_length=200)] = None,
        recorded_at: Annotated[datetime | None, Form()] = None,
        channel_map: Annotated[str | None, Form(max_length=100, pattern=r"^(agent|customer)(,(agent|customer))*$")] = None,
    ) -> UploadResponse:
        """Upload recordings with their metadata; analysis runs in the background. The same
        content with the same ``external_id`` returns the existing call instead of a new one.
        Nothing is stored unless every file is accepted."""
        if len(files) > settings.max_files_per_request:
            raise HTTPException(413, f"{len(files)} files in one request; the limit is {settings.max_files_per_request}")
        stored, refs, problems = [], [], []
        for f in files:
            name = (f.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
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
        return UploadResponse(calls=out)

    def _get(call_id: str) -> Call:
        with sessions() as s:
            call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        return call

    def _result(call: Call) -> dict:
        if call.status != "done" or not call.result_json:
            raise HTTPException(409, f"call {call.id} is {call.status}" + (f": {call.error}" if call.error else ""))
        return json.loads(call.result_json)

    @app.get("/v1/calls/{call_id}")
    def get_call(call_id: str) -> dict:
        """Status, progress (stage and 0..1), metadata and, once done, the scores."""
        call = _get(call_id)
        body = {
            "id": call.id, "filename": call.filename, "status": call.status, "stage": call.stage,
            "progress": call.progress, "error": call.error, "external_id": call.external_id,
            "metadata": {"agent_id": call.agent_id, "team": call.team, "queue": call.queue, "product": call.product,
                         "channel": call.channel, "channel_map": call.channel_map,
                         "recorded_at": call.recorded_at.isoformat() if call.recorded_at else None},
            "duration_s": call.duration_s, "escalation": call.escalation, "customer_sentiment": call.customer_sentiment,
            "links": {"transcript": f"/v1/calls/{call.id}/transcript", "timeline": f"/v1/calls/{call.id}/timeline",
                      "audio": f"/v1/calls/{call.id}/audio"},
        }
        if call.status == "done" and call.result_json:
            result = json.loads(call.result_json)
            body["scores"] = {"call": result.get("call_scores"), "speakers": result.get("speaker_scores")}
        return body

    @app.get("/v1/calls/{call_id}/transcript")
    def get_transcript(call_id: str) -> dict:
        r = _result(_get(call_id))
        return {k: r[k] for k in ("file", "duration_s", "channel_layout", "speakers", "utterances", "engine", "model")}

    @app.get("/v1/calls/{call_id}/timeline")
    def get_timeline(call_id: str) -> dict:
        r = _result(_get(call_id))
        return {"duration_s": r["duration_s"], "timeline": r["timeline"]}

    @app.get("/v1/calls/{call_id}/audio")
    def get_audio(call_id: str) -> FileResponse:
        call = _get(call_id)
        path = store.path(call.audio_key)
        if not path.is_file():
            raise HTTPException(410, f"the audio of call {call_id} is no longer stored")
        kind = audio_kind(store.head(call.audio_key)) or "wav"
        return FileResponse(path, media_type=MEDIA_TYPES[kind], filename=call.filename)

    def _cursor_encode(c: Call) -> str:
        return base64.urlsafe_b64encode(f"{c.created_at.isoformat()}|{c.id}".encode()).decode()

    def _cursor_decode(cursor: str) -> tuple[datetime, str]:
        try:
            when, call_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
            return datetime.fromisoformat(when), call_id
        except Exception as exc:  # noqa: BLE001
            raise HTTPException(400, "invalid cursor: pass the next_cursor of a previous page") from exc

    @app.get("/v1/calls")
    def list_calls(
        agent_id: str | None = None, team: str | None = None, queue: str | None = None, product: str | None = None,
        status: str | None = Query(None, pattern="^(queued|running|done|failed)$"),
        escalation: str | None = Query(None, pattern="^(green|yellow|orange|red)$"),
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = None,
    ) -> dict:
        """Calls, newest upload first, filtered; ``next_cursor`` fetches the next page."""
        q = select(Call)
        for column, value in ((Call.agent_id, agent_id), (Call.team, team), (Call.queue, queue), (Call.product, product),
                              (Call.status, status), (Call.escalation, escalation)):
            if value is not None:
                q = q.where(column == value)
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
        group_by: str = Query(..., pattern="^(agent|team|queue|day|product)$"),
        date_from: Annotated[date, Query(alias="from")] = ...,
        date_to: Annotated[date, Query(alias="to", description="inclusive")] = ...,
    ) -> dict:
        """Per group: call count, mean customer sentiment, agent talk share, silence share, share per
        escalation level, and the change in mean customer sentiment against the previous period
        of the same length."""
        if date_to < date_from:
            raise HTTPException(400, "'to' is before 'from'")
        start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
        days = (date_to - date_from).days + 1
        current = _aggregate(group_by, start, end)
        previous = _aggregate(group_by, start - timedelta(days=days), start)
        for name, g in current.items():
            before = previous.get(name, {}).get("mean_customer_sentiment")
            now = g["mean_customer_sentiment"]
            g["previous_mean_customer_sentiment"] = before
            g["trend"] = None if before is None or now is None else round(now - before, 4)
        return {"group_by": group_by, "from": date_from.isoformat(), "to": date_to.isoformat(), "groups": current}

    @app.get("/v1/feeds/daily")
    def daily_feed(day: Annotated[date, Query(alias="date")], format: str = Query("ndjson", pattern="^(ndjson|csv)$")) -> StreamingResponse:
        """The day's call-score feed (UTC day of the call), streamed; columns: see FEED_COLUMNS."""
        media = "application/x-ndjson" if format == "ndjson" else "text/csv"
        return StreamingResponse(encode(feed_rows(sessions, day), format), media_type=media,
                                 headers={"Content-Disposition": f'attachment; filename="callscope-{day.isoformat()}.{format}"',
                                          "X-Feed-Columns": ",".join(FEED_COLUMNS)})

    @app.delete("/v1/calls/{call_id}")
    def delete_call(call_id: str) -> dict:
        """Erase a call (GDPR): its audio (unless another call holds the same bytes), transcript,
        scores and jobs."""
        with sessions() as s:
            call = s.get(Call, call_id)
            if call is None:
                raise HTTPException(404, f"no call {call_id}")
            key = call.audio_key
            s.execute(delete(Job).where(Job.call_id == call_id))
            s.delete(call)
            s.flush()
            shared = s.execute(select(func.count()).select_from(Call).where(Call.audio_key == key)).scalar_one()
            s.commit()
        if not shared:
            store.delete(key)
        return {"deleted": call_id, "audio_deleted": not shared, "transcript_deleted": True, "scores_deleted": True}

    return app
