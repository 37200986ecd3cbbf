"""Erasure (GDPR) and the retention purge: a call goes with its transcript, scores, corrections,
jobs and, unless another call holds the same bytes, its audio.

Erasing a call being analysed deletes its job: the worker notices within a second, kills its
analysis process and drops the data. After an erasure the database is scrubbed
(:func:`callscope.store.db.scrub_after_erasure`): on SQLite the erased rows are overwritten and
the WAL emptied, so the text is gone from the files on disk, not only from query results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from callscope.privacy.call_keys import destroy
from callscope.qa import journeys
from callscope.qa.journeys import JourneyRules
from callscope.service.feed import call_time
from callscope.store.audio_refs import release
from callscope.store.audio_store import AudioStore
from callscope.store.db import (
    AlertDelivery,
    CalibrationSession,
    Call,
    CallCategory,
    CallComment,
    CallEmotion,
    CallInsight,
    CallTopic,
    Correction,
    Evaluation,
    EvaluationEvent,
    GeneratedSummaryRow,
    Job,
    ReviewItem,
    SearchCode,
    SearchVectors,
    SpotCheck,
    scrub_after_erasure,
    utcnow,
)

#: Call states the retention purge erases; calls still queued or being analysed wait for their end.
PURGEABLE = ("done", "failed", "unsupported_language")


def _leave_calibrations(s, call_id: str) -> None:
    """Take an erased call out of every calibration session that lists it."""
    for row in s.execute(select(CalibrationSession).where(CalibrationSession.call_ids.contains(f'"{call_id}"'))).scalars():
        row.call_ids = json.dumps([c for c in json.loads(row.call_ids) if c != call_id])


def _erase(sessions: sessionmaker, store: AudioStore, call_id: str, rules: JourneyRules | None) -> dict | None:
    with sessions() as s:
        # write first: on SQLite this takes the write lock before anything is read (a transaction
        # that reads, then writes, can fail under concurrent uploads); on PostgreSQL the row lock
        for table in (Job, Correction, CallEmotion, CallCategory, CallInsight, CallTopic, AlertDelivery, SpotCheck, EvaluationEvent, Evaluation,
                      ReviewItem, CallComment, SearchCode, SearchVectors,
                      GeneratedSummaryRow):  # explicit: SQLite enforces cascades only with the pragma
            s.execute(delete(table).where(table.call_id == call_id))
        _leave_calibrations(s, call_id)
        gone = s.execute(delete(Call).where(Call.id == call_id).returning(Call.audio_key, Call.customer_key)).one_or_none()
        if gone is None:
            s.rollback()
            return None
        key, customer = gone
        journeys.refresh(s, [customer], rules or JourneyRules())  # the customer's journey without it (or none)
        audio_deleted = release(s, store, key) if key else False  # a text interaction has no audio
        destroy(s, call_id)  # crypto-shredding: whatever copy of its sealed text survives cannot be opened
        s.commit()
    return {"deleted": call_id, "audio_deleted": audio_deleted, "transcript_deleted": True, "scores_deleted": True,
            "corrections_deleted": True}


def erase_call(sessions: sessionmaker, store: AudioStore, call_id: str, rules: JourneyRules | None = None) -> dict | None:
    """Delete one call and everything derived from it, then scrub the database files; None if
    there is no such call. The customer's journey is recomputed under ``rules``."""
    gone = _erase(sessions, store, call_id, rules)
    if gone is not None:
        scrub_after_erasure(sessions.kw["bind"])
    return gone


def erase_subject(sessions: sessionmaker, store: AudioStore, refs: Mapping[Any, str],
                  rules: JourneyRules | None = None) -> dict:
    """Erase every call of one customer: those whose ``customer_ref``, ``phone_ref`` or ``email_ref`` is one of
    ``refs`` (kind -> pseudonym, see :func:`callscope.privacy.pseudonyms.candidates`), then scrub the
    database; the journey goes with the customer's last call. A report: the pseudonyms matched, the calls erased, how many audio files went."""
    values = list(refs.values())
    with sessions() as s:
        rows = s.execute(select(Call.id, Call.customer_ref, Call.phone_ref, Call.email_ref)
                         .where(Call.customer_ref.in_(values) | Call.phone_ref.in_(values) | Call.email_ref.in_(values))
                         .order_by(Call.id)).all()
    matched = sorted({kind for kind, ref in refs.items() for _, *held in rows if ref in held})
    erased = [g for g in (_erase(sessions, store, row[0], rules) for row in rows) if g is not None]
    if erased:
        scrub_after_erasure(sessions.kw["bind"])
    return {"matched_as": matched, "pseudonyms": {k: refs[k] for k in matched}, "calls_erased": len(erased),
            "call_ids": [g["deleted"] for g in erased], "audio_files_deleted": sum(g["audio_deleted"] for g in erased),
            "access_log_kept": "rows naming these call ids stay until CALLSCOPE_ACCESS_LOG_DAYS (accountability); "
                               "they hold no personal data"}


def purge_older_than(sessions: sessionmaker, store: AudioStore, days: float, now: datetime | None = None,
                     rules: JourneyRules | None = None) -> list[str]:
    """Erase every analysed (or failed) call whose call time (``recorded_at``, else upload time)
    is more than ``days`` days ago; calls still queued or running are kept until their analysis
    ends. Returns the erased ids."""
    if not days > 0:
        raise ValueError(f"retention must be more than 0 days, not {days}")
    cutoff = (now or utcnow()) - timedelta(days=days)
    with sessions() as s:
        ids = list(s.execute(select(Call.id).where(call_time() < cutoff, Call.status.in_(PURGEABLE))).scalars())
    erased = [cid for cid in ids if _erase(sessions, store, cid, rules) is not None]
    if erased:
        scrub_after_erasure(sessions.kw["bind"])
    return erased
