"""Routes for calls one by one: upload, status and scores, transcript, timeline, audio, QA
corrections, erasure."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Body, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select

from callscope.api import jobs
from callscope.api.audio_store import TooLarge
from callscope.api.call_columns import write_scores
from callscope.api.corrections import CorrectionIn, annotate, apply_corrections, corrections_of, current_value, record
from callscope.api.db import Call, Correction, utcnow
from callscope.api.deps import Admin, CallId, Reader, Reviewer, Services, Svc, Uploader, check_days
from callscope.api.erasure import erase_call
from callscope.api.sniff import MEDIA_TYPES, audio_kind
from callscope.schema import CallAnalysis

router = APIRouter()

#: Operations that take a call id, for OpenAPI links (clients and fuzzers follow them).
CALL_OPERATIONS = ("get_call", "get_transcript", "get_timeline", "get_audio", "correct_call", "list_corrections")


def call_links(call_id: str) -> dict:
    """OpenAPI links from a response holding a call id (a runtime expression) to the call operations."""
    return {op: {"operationId": op, "parameters": {"call_id": call_id}} for op in CALL_OPERATIONS}


class CallRef(BaseModel):
    id: str
    filename: str
    status: str
    status_url: str
    existing: bool


class UploadResponse(BaseModel):
    calls: list[CallRef]


def _clean_name(filename: str | None) -> str:
    """The last path part of an uploaded file's name, without control characters (display only)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f")[:255]
    return name if name not in ("", ".", "..") else "upload"


@router.post("/v1/calls", status_code=202, response_model=UploadResponse,
          responses={202: {"description": "accepted", "links": call_links("$response.body#/calls/0/id")}})
def upload_calls(
    svc: Svc,
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
    if len(files) > svc.settings.max_files_per_request:
        raise HTTPException(413, f"{len(files)} files in one request; the limit is {svc.settings.max_files_per_request}")
    metadata = {"agent_id": agent_id, "team": team, "queue": queue, "product": product, "channel": channel,
                "external_id": external_id}
    if any(v and "\x00" in v for v in metadata.values()):  # PostgreSQL cannot store NUL: refuse it on every database
        raise HTTPException(422, {"message": "metadata must not contain NUL characters",
                                  "details": [k for k, v in metadata.items() if v and "\x00" in v]})
    if recorded_at is not None:
        recorded_at = recorded_at.replace(tzinfo=timezone.utc) if recorded_at.tzinfo is None else recorded_at
        check_days(recorded_at.date())
        recorded_at = recorded_at.astimezone(timezone.utc)
    stored, refs, problems = [], [], []
    for f in files:
        name = _clean_name(f.filename)
        try:
            key, sha, size = svc.store.put(f.file, svc.settings.max_upload_bytes)
        except TooLarge:
            problems.append((413, name, f"larger than the limit of {svc.settings.max_upload_bytes // (1024 * 1024)} MB"))
            continue
        stored.append(key)
        if size == 0:
            problems.append((400, name, "file is empty (0 bytes)"))
        elif audio_kind(svc.store.head(key)) is None:
            problems.append((415, name, "not an audio file (WAV, MP3, FLAC, Ogg/Opus, M4A)"))
        else:
            refs.append((name, key, sha, size))
    with svc.sessions() as s:
        if problems:
            referenced = set(s.execute(select(Call.audio_key).where(Call.audio_key.in_(stored))).scalars())
            for key in set(stored) - referenced:
                svc.store.delete(key)
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
    svc.metrics.uploaded.inc(sum(not r.existing for r in out))
    return UploadResponse(calls=out)


def _get(svc: Services, call_id: str) -> Call:
    with svc.sessions() as s:
        call = s.get(Call, call_id)
    if call is None:
        raise HTTPException(404, f"no call {call_id}")
    return call


def _analysis(svc: Services, call: Call) -> tuple[dict, list[Correction]]:
    """The call's analysis as JSON, with QA corrections applied, and the corrections."""
    if call.status != "done" or not call.result_json:
        raise HTTPException(409, f"call {call.id} is {call.status}" + (f": {call.error}" if call.error else ""))
    with svc.sessions() as s:
        corrections = corrections_of(s, call.id)
    if not corrections:
        return json.loads(call.result_json), corrections
    corrected = apply_corrections(CallAnalysis.model_validate_json(call.result_json), corrections)
    return corrected.model_dump(mode="json"), corrections


@router.get("/v1/calls/{call_id}", operation_id="get_call")
def get_call(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Status, progress (stage and 0..1), metadata and, once done, the scores (with QA
    corrections applied; ``corrections`` counts them)."""
    call = _get(svc, call_id)
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
        result, corrections = _analysis(svc, call)
        body["scores"] = {"call": result.get("call_scores"), "speakers": result.get("speaker_scores")}
        body["corrections"] = len(corrections)
    return body


@router.get("/v1/calls/{call_id}/transcript", operation_id="get_transcript")
def get_transcript(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Utterances with words, speakers and per-utterance scores; a corrected utterance has
    ``corrected``: per field, the original value, the reviewer, when and why."""
    r, corrections = _analysis(svc, _get(svc, call_id))
    body = {k: r[k] for k in ("file", "duration_s", "channel_layout", "speakers", "utterances", "engine", "model")}
    return annotate(body, corrections)


@router.get("/v1/calls/{call_id}/timeline", operation_id="get_timeline")
def get_timeline(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    r, _ = _analysis(svc, _get(svc, call_id))
    return {"duration_s": r["duration_s"], "timeline": r["timeline"]}


@router.get("/v1/calls/{call_id}/audio", response_class=FileResponse, operation_id="get_audio")
def get_audio(call_id: CallId, svc: Svc, _who: Reader) -> FileResponse:
    call = _get(svc, call_id)
    path = svc.store.path(call.audio_key)
    if not path.is_file():
        raise HTTPException(410, f"the audio of call {call_id} is no longer stored")
    kind = audio_kind(svc.store.head(call.audio_key)) or "wav"
    return FileResponse(path, media_type=MEDIA_TYPES[kind], filename=call.filename)


@router.post("/v1/calls/{call_id}/corrections", status_code=201, operation_id="correct_call")
def correct(call_id: CallId, svc: Svc, who: Reviewer, correction: Annotated[CorrectionIn, Body()]) -> dict:
    """A QA reviewer overrides an utterance's sentiment (-1..+1) and/or emotion label, or the
    call's escalation level. The analysis keeps its original values; reads, lists, feeds and
    aggregates show the corrected ones. Returns the stored corrections and the call's scores."""
    with svc.sessions() as s:
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


@router.get("/v1/calls/{call_id}/corrections", operation_id="list_corrections")
def list_corrections(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Every correction of the call, oldest first: who, when, why, the value before (as
    analysed) and the value set. The newest per utterance and field is in force."""
    _get(svc, call_id)
    with svc.sessions() as s:
        return {"call_id": call_id, "corrections": [record(c) for c in corrections_of(s, call_id)]}


@router.delete("/v1/calls/{call_id}")
def delete_call(call_id: CallId, svc: Svc, _who: Admin) -> dict:
    """Erase a call (GDPR): its audio (unless another call holds the same bytes), transcript,
    scores, corrections and jobs."""
    gone = erase_call(svc.sessions, svc.store, call_id)
    if gone is None:
        raise HTTPException(404, f"no call {call_id}")
    return gone

