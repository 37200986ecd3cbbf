"""The HTTP API (``/v1``): upload calls, follow their analysis, read transcripts and timelines.

Errors are JSON: ``{"error": {"status": 415, "message": "…", "details": …}}``.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import select, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from callscope.api import jobs
from callscope.api.audio_store import AudioStore, TooLarge
from callscope.api.config import ServiceSettings
from callscope.api.db import Call, make_engine, migrate, session_factory
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
    app = FastAPI(title="callscope", version="0.1.0",
                  description="Call analytics: upload recordings, read transcripts, emotion timelines and scores.")
    app.state.settings = settings

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail) if not isinstance(exc.detail, dict) else exc.detail.get("message", ""),
                      exc.detail.get("details") if isinstance(exc.detail, dict) else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid request", json.loads(json.dumps(exc.errors(), default=str)))

    if inline_worker:
        from callscope.api.worker import Worker

        worker = Worker(settings)

        @app.on_event("startup")
        def _start_worker() -> None:
            threading.Thread(target=worker.run_forever, name="callscope-worker", daemon=True).start()

        @app.on_event("shutdown")
        def _stop_worker() -> None:
            worker.stop.set()

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

    return app
