"""How a text interaction (a chat, an e-mail thread, a ticket) becomes a contact beside the calls:
the fields ``POST /v1/interactions`` and ``callscope import`` take, checked as an upload's are,
and the row and job they make. The worker scores it
(:mod:`callscope.analysis.text_pipeline`); until then its messages wait sealed under the
contact's own key in ``source_json``, and the analysis (redacted as a call's transcript is)
replaces them: the unredacted text is not kept."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callscope.analysis.text_pipeline import MAX_MESSAGE_CHARS  # the longest message scored, characters
from callscope.privacy.call_keys import seal_value
from callscope.privacy.pseudonyms import normalise_email, pseudonym
from callscope.service.intake import MetaError, UploadMeta, call_values, checked, insert_call
from callscope.store import jobs

MAX_MESSAGES = 500


class MessageIn(BaseModel):
    """One message: who wrote it, when, and what (plain text; an e-mail's body with its quotes)."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["customer", "agent"] = Field(description="who wrote it")
    at: datetime = Field(description="when it was sent, ISO 8601 (without a zone: UTC)")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class InteractionIn(UploadMeta):
    """A text interaction: its channel and messages, and the metadata a call upload takes
    (agent, team, queue, product, external id, customer id or phone, analysis settings such as
    ``language``). ``customer_email``: the customer's address (an e-mail's sender), stored only as
    a keyed hash, like the customer id. ``recorded_at`` is the first message's time."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    channel: Literal["chat", "email", "ticket"] = Field(description="the channel (calls are 'voice')")  # type: ignore[assignment]
    subject: str | None = Field(None, max_length=255, description="shown as the contact's name (sealed)")
    customer_email: str | None = Field(None, max_length=320, description="the customer's e-mail address: stored "
                                       "only as a keyed hash (email_ref)")
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)

    @field_validator("customer_email")
    @classmethod
    def _an_address(cls, v: str | None) -> str | None:
        if v is not None:
            normalise_email(v)  # ValueError: not an e-mail address
        return v


def insert_interaction(session, item: InteractionIn, secret: bytes, retention_days: int | None,
                       direction_for=None) -> tuple[str, bool]:
    """Store ``item`` as a contact and queue its scoring, in the caller's transaction: (its id,
    True) or, for the same messages and external id sent again, (the stored one's id, False).
    Raises :class:`~callscope.service.intake.MetaError` for metadata the service refuses."""
    from sqlalchemy import select

    from callscope.store.db import Call

    messages = sorted(item.messages, key=lambda m: m.at)
    meta = checked(item.model_copy(update={"recorded_at": item.recorded_at or messages[0].at}), retention_days,
                   direction_for)
    source = json.dumps({"channel": item.channel, "messages": [m.model_dump(mode="json") for m in messages]},
                        ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(source.encode()).hexdigest()
    name = item.subject or f"{item.channel} {messages[0].at.strftime('%Y-%m-%d %H:%M')} ({len(messages)} messages)"
    values = call_values(meta, sha256=digest, key="", filename=name, size_bytes=len(source.encode()), secret=secret)
    values["email_ref"] = pseudonym(secret, "email", item.customer_email) if item.customer_email else None
    values["customer_key"] = values["customer_key"] or values["email_ref"]
    values["source_json"] = seal_value(session, values["id"], "source_json", source)
    new_id = insert_call(session, values)
    if new_id is None:
        existing = session.execute(select(Call.id).where(Call.sha256 == digest, Call.external_id == item.external_id)
                                   ).scalar_one()
        return existing, False
    jobs.enqueue(session, new_id)
    return new_id, True


def parse_ndjson_line(line: str, number: int) -> InteractionIn:
    """One line of an NDJSON import as an interaction; :class:`MetaError` naming the line."""
    from pydantic import ValidationError

    try:
        return InteractionIn.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MetaError(f"line {number}: {where}: {first['msg']}", [where]) from None
