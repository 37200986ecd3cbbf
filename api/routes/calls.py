"""Routes for calls one by one: upload, status and scores, transcript, timeline, audio, QA
corrections, erasure."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from callscope.analysis.schema import CallAnalysis
from callscope.api.deps import Admin, CallId, Reader, Reviewer, Services, Svc, Uploader
from callscope.api.responses import CallOut, CorrectedOut, CorrectionListOut, ErasedCallOut, TimelineOut, TranscriptOut
from callscope.api.upload_form import FILE_FIELD, FormLimits, ReceivedFile, receive_form
from callscope.privacy import access_log
from callscope.privacy.call_keys import open_value, readable, readable_correction, seal_correction
from callscope.privacy.erasure import erase_call
from callscope.qa import categories, insights, journeys
from callscope.qa.corrections import (
    CorrectionIn,
    annotate,
    apply_corrections,
    corrections_of,
    current_value,
    record,
    swapped_roles,
)
from callscope.qa.rule_runner import RulesTimedOut
from callscope.service.intake import MetaError, UploadMeta, call_values, checked, insert_call
from callscope.service.sniff import MEDIA_TYPES, audio_kind
from callscope.store import jobs
from callscope.store.audio_refs import hold
from callscope.store.call_columns import FINISHED, write_scores
from callscope.store.db import Call, Correction, utcnow

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


def _upload_schema() -> dict:
    props = {k: {**v, "type": "string", **next(o for o in v["anyOf"] if o.get("type") != "null")} if "anyOf" in v else v
             for k, v in UploadMeta.model_json_schema()["properties"].items()}
    for v in props.values():
        v.pop("anyOf", None)
        v.pop("default", None)
    props["recorded_at"]["format"] = "date-time"
    props[FILE_FIELD] = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1,
                         "description": "one or more recordings (WAV, MP3, FLAC, Ogg/Opus, M4A)"}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": props, "required": [FILE_FIELD]}}}}}


def _metadata(fields: dict[str, str], settings) -> UploadMeta:
    """The form's metadata, validated (422 like any invalid request; :func:`callscope.service.intake.checked`)."""
    try:
        meta = UploadMeta.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    try:
        return checked(meta, settings.retention_days, settings.direction_for)
    except MetaError as exc:
        raise HTTPException(exc.status, {"message": exc.message, "details": exc.details} if exc.details
                            else exc.message) from None


def _register(svc: Services, meta: UploadMeta, accepted: list[tuple[str, ReceivedFile, str]]) -> list[CallRef]:
    """Record the accepted files as calls and queue them, in one transaction: a call is new, or
    the existing one with the same content and external id; each new call holds its audio."""
    out = []
    with svc.sessions() as s:
        for name, received, sha in accepted:
            key = svc.store.key_for(sha)
            values = call_values(meta, sha256=sha, key=key, filename=name, size_bytes=received.pending.size,
                                 secret=svc.secret)
            new_id = insert_call(s, values)
            if new_id is None:
                existing = readable(s, s.execute(select(Call).where(Call.sha256 == sha, Call.external_id == meta.external_id)).scalar_one())
                out.append(CallRef(id=existing.id, filename=existing.filename, status=existing.status,
                                   status_url=f"/v1/calls/{existing.id}", existing=True))
                continue
            hold(s, svc.store, key, received.pending.path)
            jobs.enqueue(s, new_id)
            out.append(CallRef(id=new_id, filename=name, status="queued", status_url=f"/v1/calls/{new_id}", existing=False))
        s.commit()
    return out


@router.post("/v1/calls", status_code=202, response_model=UploadResponse, openapi_extra=_upload_schema(),
             responses={202: {"description": "accepted", "links": call_links("$response.body#/calls/0/id")},
                        413: {"description": "a file, the request or a form field is over its limit"},
                        415: {"description": "not audio, or not multipart/form-data"}})
async def upload_calls(request: Request, svc: Svc, _who: Uploader) -> UploadResponse:
    """Upload recordings (field ``files``, one or more) with their metadata; analysis runs in
    the background. The key is checked before any of the body is read, and the body is cut off
    (413) as soon as a file passes ``CALLSCOPE_MAX_UPLOAD_MB``, the request
    ``CALLSCOPE_MAX_REQUEST_MB``, or the form fields ``CALLSCOPE_MAX_FORM_FIELDS`` /
    ``CALLSCOPE_MAX_FIELD_BYTES``. A ``recorded_at`` older than the retention period is refused
    (422). The same content with the same ``external_id`` returns the
    existing call instead of a new one. Nothing is stored unless every file is accepted.
    ``channel_map`` travels with the call into its analysis."""
    st = svc.settings
    # a body over CALLSCOPE_MAX_REQUEST_MB ends here as a 413 (BodyTooLarge), temporary files removed
    form = await receive_form(request, svc.store, FormLimits(st.max_upload_bytes, st.max_files_per_request,
                                                             st.max_form_fields, st.max_field_bytes))
    try:
        if not form.files:
            raise RequestValidationError([{"type": "missing", "loc": ["body", FILE_FIELD], "msg": "Field required",
                                           "input": None}])
        meta = _metadata(form.fields, st)
        accepted, problems = [], []
        for f in form.files:
            name = _clean_name(f.filename)
            sha = f.pending.finish()
            if f.pending.size == 0:
                problems.append((400, name, "file is empty (0 bytes)"))
            elif audio_kind(f.pending.head) is None:
                problems.append((415, name, "not an audio file (WAV, MP3, FLAC, Ogg/Opus, M4A)"))
            else:
                accepted.append((name, f, sha))
        if problems:
            status = max(p[0] for p in problems) if len({p[0] for p in problems}) > 1 else problems[0][0]
            raise HTTPException(status, {"message": "; ".join(f"{n}: {m}" for _, n, m in problems),
                                         "details": [{"file": n, "status": c, "reason": m} for c, n, m in problems]})
        out = await run_in_threadpool(_register, svc, meta, accepted)
    finally:
        form.discard()  # whatever was not placed in the store
    svc.metrics.uploaded.inc(sum(not r.existing for r in out))
    return UploadResponse(calls=out)


def _get(svc: Services, call_id: str) -> Call:
    with svc.sessions() as s:
        call = readable(s, s.get(Call, call_id))
    if call is None:
        raise HTTPException(404, f"no call {call_id}")
    return call


def _analysis(svc: Services, call: Call) -> tuple[dict, list[Correction]]:
    """The call's analysis as JSON, with QA corrections applied, and the corrections."""
    if call.status != "done" or not call.result_json:
        why = f": {call.error}" if call.error else ""
        if call.status == "unsupported_language" and call.result_json:
            why = f": {json.loads(call.result_json).get('language_note')}"
        raise HTTPException(409, f"call {call.id} is {call.status}{why}")
    with svc.sessions() as s:
        corrections = corrections_of(s, call.id)
        under = categories.version(s, call.rules_version) if call.rules_version else None
        if not corrections and (under is None or categories.bands_for(under, call) is None):
            return json.loads(call.result_json), corrections  # as analysed: no need to parse it
        shown = categories.scored(s, call, CallAnalysis.model_validate_json(call.result_json), under)
    return shown.model_dump(mode="json"), corrections


@router.get("/v1/calls/{call_id}", operation_id="get_call", response_model=CallOut, response_model_exclude_unset=True)
def get_call(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Status, progress (stage and 0..1), metadata and, once done, the scores (with QA
    corrections applied; ``corrections`` counts them) and the categories matched under the
    call's current rule-set version (``rules_version``), each with its evidence."""
    call = _get(svc, call_id)
    body: dict[str, Any] = {
        "id": call.id, "filename": call.filename, "status": call.status, "stage": call.stage,
        "progress": call.progress, "error": call.error, "external_id": call.external_id,
        "metadata": {"agent_id": call.agent_id, "team": call.team, "queue": call.queue, "product": call.product,
                     "channel": call.channel, "channel_map": call.channel_map,
                     "customer_ref": call.customer_ref, "phone_ref": call.phone_ref,
                     "recorded_at": call.recorded_at.isoformat() if call.recorded_at else None},
        "duration_s": call.duration_s, "escalation": call.escalation, "customer_sentiment": call.customer_sentiment,
        "language": call.language, "language_confidence": call.language_confidence,
        "links": {"transcript": f"/v1/calls/{call.id}/transcript", "timeline": f"/v1/calls/{call.id}/timeline",
                  "audio": f"/v1/calls/{call.id}/audio", "corrections": f"/v1/calls/{call.id}/corrections"},
    }
    if call.customer_key:
        body["journey"] = {"customer": call.customer_key, "pseudonym": journeys.display_name(call.customer_key),
                           "link": f"/customers/{call.customer_key}", "repeat_of": call.repeat_of,
                           "days_since_previous": call.days_since_previous, "fcr": call.fcr,
                           "recovered": call.recovered, "recovery_of": call.recovery_of}
    if call.status == "unsupported_language" and call.result_json:
        raw = json.loads(call.result_json)
        body.update({k: raw.get(k) for k in ("language_supported", "languages", "language_note", "decode_warnings")})
    if call.status == "done" and call.result_json:
        result, corrections = _analysis(svc, call)
        body.update({k: result.get(k) for k in ("language_supported", "language_note", "transcript_reliability",
                                                 "decode_warnings")})
        body["scores"] = {"call": result.get("call_scores"), "speakers": result.get("speaker_scores")}
        body["corrections"] = len(corrections)
        with svc.sessions() as s:
            version = categories.version(s, call.rules_version) if call.rules_version else None
            body["rules_version"] = version.label if version else None
            body["categories"] = categories.categories_of(s, call.id, version.number) if version else []
            body["insight"] = insights.insight_of(s, call.id, version.number if version else None)
        body["links"]["categories"] = f"/v1/calls/{call.id}/categories"
    return body


@router.get("/v1/calls/{call_id}/transcript", operation_id="get_transcript", response_model=TranscriptOut,
            response_model_exclude_unset=True)
def get_transcript(call_id: CallId, svc: Svc, who: Reader) -> dict:
    """Utterances with words, speakers and per-utterance scores; a corrected utterance has
    ``corrected``: per field, the original value, the reviewer, when and why. The read goes
    into the access log."""
    r, corrections = _analysis(svc, _get(svc, call_id))
    access_log.record(svc.sessions, who, call_id, "transcript")
    body = {k: r.get(k) for k in ("file", "duration_s", "channel_layout", "speakers", "utterances", "engine", "model",
                                  "language", "languages", "language_note", "redactions", "redaction",
                                  "transcript_reliability")}
    return annotate(body, corrections)


@router.get("/v1/calls/{call_id}/timeline", operation_id="get_timeline", response_model=TimelineOut,
            response_model_exclude_unset=True)
def get_timeline(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    r, _ = _analysis(svc, _get(svc, call_id))
    return {"duration_s": r["duration_s"], "timeline": r["timeline"]}


@router.get("/v1/calls/{call_id}/audio", response_class=FileResponse, operation_id="get_audio",
            responses={200: {"description": "the recording (redacted stretches silenced)",
                             "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in sorted(set(MEDIA_TYPES.values()))}}})
def get_audio(call_id: CallId, svc: Svc, who: Reader) -> FileResponse:
    """The recording, once its analysis is done (409 before): as uploaded, or, when personal
    data was redacted from its transcript, as lossless FLAC with those stretches silenced on
    the speaker's channel (the unredacted upload is not kept). The read goes into the access log."""
    call = _get(svc, call_id)
    if not call.audio_key:
        raise HTTPException(404, f"{call_id} is a text interaction ({call.channel}): it has no audio")
    if call.status not in FINISHED:
        raise HTTPException(409, f"call {call_id} is {call.status}: its audio is served once the analysis is done")
    path = svc.store.path(call.audio_key)
    if not path.is_file():
        raise HTTPException(410, f"the audio of call {call_id} is no longer stored")
    access_log.record(svc.sessions, who, call_id, "audio")
    kind = audio_kind(svc.store.head(call.audio_key)) or "wav"
    name = call.filename if call.filename.lower().endswith(f".{kind}") or kind != "flac" else f"{call.filename.rsplit('.', 1)[0]}.flac"
    return FileResponse(path, media_type=MEDIA_TYPES[kind], filename=name)


@router.get("/v1/calls/{call_id}/audio/original", response_class=StreamingResponse, operation_id="get_original_audio",
            responses={200: {"description": "the unredacted upload, as uploaded",
                             "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in sorted(set(MEDIA_TYPES.values()))}},
                       404: {"description": "no original kept for this call"}})
def get_original_audio(call_id: CallId, svc: Svc, who: Admin) -> StreamingResponse:
    """The unredacted upload of a call whose recording was redacted, for deployments that keep it
    (``CALLSCOPE_KEEP_ORIGINAL``, sealed at rest with AES-256-GCM under ``CALLSCOPE_ORIGINAL_KEY``).
    Admin keys only; every read goes into the access log as ``audio_original``. 404 when no
    original is kept (the setting is off, or nothing was redacted: then ``/audio`` is the upload)."""
    from callscope.privacy.sealed import SealError, unseal

    call = _get(svc, call_id)
    if not call.audio_key:
        raise HTTPException(404, f"{call_id} is a text interaction ({call.channel}): it has no audio")
    path = svc.store.original_path(call.audio_key)
    if not path.is_file():
        raise HTTPException(404, f"no unredacted original of call {call_id} is kept")
    key = svc.settings.opening_key
    if key is None:
        raise HTTPException(409, "the original is sealed, but CALLSCOPE_ORIGINAL_KEY is not set: it cannot be opened")
    chunks = unseal(path, key, call.audio_key)
    try:
        first = next(chunks)  # a wrong key or a damaged file fails here, before any byte is sent
    except SealError as exc:
        raise HTTPException(409, f"the original of call {call_id} does not open: {exc}") from exc
    access_log.record(svc.sessions, who, call_id, "audio_original", every=True)
    kind = audio_kind(first) or "wav"

    def body():
        yield first
        yield from chunks

    name = call.filename if call.filename.lower().endswith(f".{kind}") else f"{call.filename.rsplit('.', 1)[0]}.{kind}"
    return StreamingResponse(body(), media_type=MEDIA_TYPES[kind],
                             headers={"Content-Disposition": f"attachment; filename*=utf-8''{quote(name)}"})


@router.post("/v1/calls/{call_id}/corrections", status_code=201, operation_id="correct_call", response_model=CorrectedOut,
             response_model_exclude_unset=True)
def correct(call_id: CallId, svc: Svc, who: Reviewer, correction: Annotated[CorrectionIn, Body()]) -> dict:
    """A QA reviewer overrides an utterance's sentiment (-1..+1) and/or emotion label, the
    call's escalation level, swaps agent and customer (``swap_roles``) or gives speakers their
    roles (``roles``, e.g. the one speaker of a call the analysis left 'unknown'): scores, level,
    reasons and categories are computed again. The analysis keeps its original values; reads, lists, feeds and
    aggregates show the corrected ones. The reviewer on record is the API key used (its name
    and id); ``display_name`` may add a person's name beside it, never replace it. Returns the
    stored corrections and, for a key that may also read calls, the call's new scores."""
    with svc.sessions() as s:
        call = s.execute(select(Call).where(Call.id == call_id).with_for_update()).scalar_one_or_none()
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        if call.status != "done" or not call.result_json:
            raise HTTPException(409, f"call {call_id} is {call.status}: only analysed calls can be corrected")
        text = open_value(s, call_id, "result_json", call.result_json)
        assert text is not None  # checked above: an analysed call
        original = CallAnalysis.model_validate_json(text)
        i = correction.utterance
        if i is not None and (i >= len(original.utterances) or original.utterances[i].sentiment is None):
            raise HTTPException(422, f"call {call_id} has no scored utterance {i} (it has {len(original.utterances)})")
        fields = correction.fields()
        if fields.get("roles") is True:  # the swap of the roles as they stand, after earlier corrections
            try:
                fields["roles"] = swapped_roles(apply_corrections(original, corrections_of(s, call_id)))
            except ValueError as exc:
                raise HTTPException(422, f"{exc}; give the speakers their roles instead ('roles')") from None
        elif "roles" in fields:  # the reviewer's map, on top of the roles as they stand
            known = {sp.id for sp in original.speakers}
            given = fields["roles"]
            assert isinstance(given, dict)
            unknown = sorted(set(given) - known)
            if unknown:
                raise HTTPException(422, f"no speaker {', '.join(unknown)} in call {call_id} (it has {', '.join(sorted(known))})")
            now = apply_corrections(original, corrections_of(s, call_id))
            fields["roles"] = {**(now.call_scores.roles if now.call_scores else {}), **given}
        rows = [Correction(call_id=call_id, utterance=i, field=field, reviewer=who.name, api_key_id=who.key_id,
                           created_at=utcnow(),
                           **seal_correction(s, call_id, original=json.dumps(current_value(original, i, field)),
                                             value=json.dumps(value), display_name=correction.display_name,
                                             reason=correction.reason))
                for field, value in fields.items()]
        s.add_all(rows)
        s.flush()
        corrected = categories.scored(s, call, original)
        try:  # the rule set's patterns run in the API's rule process, never in this thread
            write_scores(s, call_id, corrected, runner=svc.rules)
            journeys.refresh(s, [call.customer_key], svc.settings.journey_rules)  # a corrected level moves recovery
        except RulesTimedOut as exc:
            s.rollback()
            raise HTTPException(503, f"{exc}; the correction was not stored: simplify the rule set's patterns "
                                     "or try again") from None
        s.commit()
        body: dict = {"corrections": [record(readable_correction(s, r)) for r in rows]}
        if who.allows("read"):  # a review-only key gets back what it wrote, never more of the call
            body["escalation"] = corrected.call_scores.escalation.model_dump() if corrected.call_scores else None
            body["speakers"] = [sp.model_dump(include={"speaker", "role", "sentiment_mean", "emotion_shares"})
                                for sp in corrected.speaker_scores]
        return body


@router.get("/v1/calls/{call_id}/corrections", operation_id="list_corrections", response_model=CorrectionListOut)
def list_corrections(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Every correction of the call, oldest first: who, when, why, the value before (as
    analysed) and the value set. The newest per utterance and field is in force."""
    _get(svc, call_id)
    with svc.sessions() as s:
        return {"call_id": call_id, "corrections": [record(c) for c in corrections_of(s, call_id)]}


@router.delete("/v1/calls/{call_id}", response_model=ErasedCallOut)
def delete_call(call_id: CallId, svc: Svc, _who: Admin) -> dict:
    """Erase a call (GDPR): its audio (unless another call holds the same bytes), transcript,
    scores, corrections and jobs."""
    gone = erase_call(svc.sessions, svc.store, call_id, svc.settings.journey_rules)
    if gone is None:
        raise HTTPException(404, f"no call {call_id}")
    return gone

