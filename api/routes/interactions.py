"""Text interactions (chat, e-mail, tickets) beside the calls: one as JSON, or many as NDJSON.

Each is stored as a contact with ``channel`` chat, email or ticket and scored by a worker on the
same scale as calls (:mod:`callscope.analysis.text_pipeline`); it then shows in the list, the
review page (as a thread), aggregates, feeds, alerts and its customer's journey."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from callscope.api.deps import Svc, Uploader
from callscope.api.guard import BULK_PATH
from callscope.service.intake import MetaError
from callscope.service.interactions import InteractionIn, insert_interaction, parse_ndjson_line

router = APIRouter(tags=["customers"])
#: lines one bulk request may carry
MAX_BULK_LINES = 10_000
#: the longest line of a bulk body (500 messages of 20,000 characters of unescaped UTF-8 fit)
MAX_LINE_BYTES = 48 * 2**20


class InteractionRef(BaseModel):
    id: str
    status_url: str
    existing: bool = Field(description="true: the same messages and external id were sent before; this is that contact")


class InteractionsAccepted(BaseModel):
    interactions: list[InteractionRef]


def _store(svc, items: list[tuple[int, InteractionIn]]) -> list[InteractionRef]:
    st = svc.settings
    out = []
    with svc.sessions() as s:
        for number, item in items:
            try:
                cid, new = insert_interaction(s, item, svc.secret, st.retention_days, st.direction_for)
            except MetaError as exc:
                s.rollback()
                raise HTTPException(422, {"message": (f"line {number}: " if number else "") + exc.message,
                                          "details": exc.details}) from None
            out.append(InteractionRef(id=cid, status_url=f"/v1/calls/{cid}", existing=not new))
        s.commit()
    return out


@router.post("/v1/interactions", status_code=202, response_model=InteractionsAccepted,
             responses={413: {"description": "the body is over 1 MB"}, 422: {"description": "a field is refused"}})
def post_interaction(item: InteractionIn, svc: Svc, _who: Uploader) -> dict:
    """Store a chat, e-mail thread or ticket (its messages with role, time and text; the metadata a
    call takes; ``customer_email`` for the sender) and queue its scoring. Quoted earlier messages
    and signatures in e-mails are not scored again. The same messages with the same
    ``external_id`` return the stored contact. Poll ``status_url`` as for a call."""
    return {"interactions": _store(svc, [(0, item)])}


@router.post(BULK_PATH, status_code=202, response_model=InteractionsAccepted,
             openapi_extra={"requestBody": {"required": True, "content": {"text/plain": {
                 "schema": {"type": "string", "description": "NDJSON: one interaction (as POST /v1/interactions takes it) "
                                                            "per line; sent as application/x-ndjson or text/plain"}}}}},
             responses={413: {"description": "over CALLSCOPE_MAX_REQUEST_MB"},
                        422: {"description": "a line is refused: nothing is stored; the error names the line"}})
async def post_interactions_bulk(request: Request, svc: Svc, _who: Uploader) -> dict:
    """Store many interactions at once: NDJSON, one per line (at most 10,000 lines, the body at most
    ``CALLSCOPE_MAX_REQUEST_MB``). Every line is checked first: one refused line refuses the
    request (422 naming the line) and nothing is stored."""
    items: list[tuple[int, InteractionIn]] = []
    buffer, number = bytearray(), 0

    def take(line: bytes) -> None:
        nonlocal number
        number += 1
        if not line.strip():
            return
        if len(items) >= MAX_BULK_LINES:
            raise HTTPException(413, f"more than {MAX_BULK_LINES:,} interactions in one request: send them in parts")
        try:
            items.append((number, parse_ndjson_line(line.decode("utf-8"), number)))
        except UnicodeDecodeError:
            raise HTTPException(422, f"line {number}: not UTF-8") from None
        except MetaError as exc:
            raise HTTPException(422, {"message": exc.message, "details": exc.details}) from None

    async for chunk in request.stream():  # each byte looked at once: a long line costs linear time
        *lines, rest = chunk.split(b"\n")
        if lines:
            take(bytes(buffer) + lines[0])
            for line in lines[1:]:
                take(line)
            buffer = bytearray()
        buffer += rest
        if len(buffer) > MAX_LINE_BYTES:
            raise HTTPException(413, f"line {number + 1} is longer than {MAX_LINE_BYTES // 2**20} MB: "
                                     "one interaction per line, its messages at most 500 of 20,000 characters")
    take(bytes(buffer))
    if not items:
        raise HTTPException(422, "no interaction in the body: send one JSON object per line")
    try:
        return {"interactions": _store(svc, items)}
    except ValidationError as exc:  # pragma: no cover - validated per line above
        raise HTTPException(422, str(exc)) from None
