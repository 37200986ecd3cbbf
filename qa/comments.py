"""Comments on a moment of a call: a reviewer's note on one utterance (or a time), shown in the
transcript and on the timeline. The text is sealed under the call's key, so erasure takes it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.privacy.call_keys import open_value, seal_value
from callscope.store.db import CallComment, utcnow

MAX_COMMENT = 2000  # characters


def add(session: Session, call_id: str, author: str, text: str, at_s: float, utterance: int | None) -> CallComment:
    row = CallComment(call_id=call_id, utterance=utterance, at_s=round(float(at_s), 3), author=author,
                      text=seal_value(session, call_id, "comment", text.strip()[:MAX_COMMENT]), created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def describe(session: Session, row: CallComment) -> dict:
    return {"id": row.id, "call_id": row.call_id, "utterance": row.utterance, "at_s": row.at_s, "author": row.author,
            "text": open_value(session, row.call_id, "comment", row.text), "created_at": row.created_at.isoformat()}


def of_call(session: Session, call_id: str) -> list[dict]:
    rows = session.execute(select(CallComment).where(CallComment.call_id == call_id)
                           .order_by(CallComment.at_s, CallComment.id)).scalars().all()
    return [describe(session, r) for r in rows]
