"""Erasure (GDPR) and the retention purge: a call goes with its transcript, scores, corrections,
jobs and, unless another call holds the same bytes, its audio."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from callscope.api.audio_store import AudioStore
from callscope.api.db import Call, CallEmotion, Correction, Job, utcnow
from callscope.api.feed import call_time


def erase_call(sessions: sessionmaker, store: AudioStore, call_id: str) -> dict | None:
    """Delete one call and everything derived from it; None if there is no such call."""
    with sessions() as s:
        key = s.execute(select(Call.audio_key).where(Call.id == call_id)).scalar_one_or_none()
        if key is None:
            return None
        for table in (Job, Correction, CallEmotion):  # explicit: SQLite enforces cascades only with the pragma
            s.execute(delete(table).where(table.call_id == call_id))
        s.execute(delete(Call).where(Call.id == call_id))
        shared = s.execute(select(func.count()).select_from(Call).where(Call.audio_key == key)).scalar_one()
        s.commit()
    if not shared:
        store.delete(key)
    return {"deleted": call_id, "audio_deleted": not shared, "transcript_deleted": True, "scores_deleted": True,
            "corrections_deleted": True}


def purge_older_than(sessions: sessionmaker, store: AudioStore, days: float, now: datetime | None = None) -> list[str]:
    """Erase every call whose call time (``recorded_at``, else upload time) is more than ``days``
    days ago, except calls being analysed right now; returns their ids."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with sessions() as s:
        ids = list(s.execute(select(Call.id).where(call_time() < cutoff, Call.status != "running")).scalars())
    return [cid for cid in ids if erase_call(sessions, store, cid) is not None]
