"""The access log: who (API key) read which call's transcript or audio, and when (GDPR
accountability). One row per key, call and resource per minute: a player fetching the audio in
byte ranges, or a page reloading, is one read, not dozens. Rows are kept for
``CALLSCOPE_ACCESS_LOG_DAYS`` and outlive the call's erasure (they hold only its id)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import sessionmaker

from callscope.service.auth import Principal
from callscope.store.db import AccessLog, utcnow

Resource = Literal["transcript", "audio", "audio_original", "report"]
SAME_READ = timedelta(minutes=1)


def record(sessions: sessionmaker, who: Principal, call_id: str, resource: Resource, every: bool = False) -> None:
    """Log that ``who`` read ``resource`` of ``call_id`` (unless they did within the last minute
    and ``every`` is False: the unredacted original logs every read)."""
    now = utcnow()
    with sessions() as s:
        recent = not every and s.execute(select(exists().where(
            AccessLog.call_id == call_id, AccessLog.resource == resource, AccessLog.at > now - SAME_READ,
            AccessLog.api_key_id.is_(None) if who.key_id is None else AccessLog.api_key_id == who.key_id))).scalar()
        if not recent:
            s.add(AccessLog(at=now, api_key_id=who.key_id, key_name=who.name, call_id=call_id, resource=resource))
            s.commit()


def entries(sessions: sessionmaker, *, call_id: str | None, key_id: int | None, start: datetime | None,
            end: datetime | None, before_id: int | None, limit: int) -> list[AccessLog]:
    """Log rows, newest first, filtered; ``before_id`` pages on."""
    q = select(AccessLog)
    if call_id is not None:
        q = q.where(AccessLog.call_id == call_id)
    if key_id is not None:
        q = q.where(AccessLog.api_key_id == key_id)
    if start is not None:
        q = q.where(AccessLog.at >= start)
    if end is not None:
        q = q.where(AccessLog.at < end)
    if before_id is not None:
        q = q.where(AccessLog.id < before_id)
    with sessions() as s:
        return list(s.execute(q.order_by(AccessLog.id.desc()).limit(limit)).scalars())


def describe(row: AccessLog) -> dict:
    return {"id": row.id, "at": row.at.isoformat(), "api_key_id": row.api_key_id, "key_name": row.key_name,
            "call_id": row.call_id, "resource": row.resource}


def purge(sessions: sessionmaker, days: float, now: datetime | None = None) -> int:
    """Delete rows older than ``days``; how many."""
    with sessions() as s:
        gone = s.execute(delete(AccessLog).where(AccessLog.at < (now or utcnow()) - timedelta(days=days))).rowcount
        s.commit()
    return gone
