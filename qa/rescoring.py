"""Re-scoring stored calls under a rule-set version, from their stored analyses: no audio is read
and no ASR model is loaded (this module imports neither), so it runs at the speed of the
database. Asked to (``sentiment``), it also scores text sentiment again with another sentiment
model, from the stored transcripts.

A run is recorded (:class:`~callscope.store.db.RescoreRun`: total, done, skipped, failed) and is
resumable: a call whose current categories already come from the version is skipped, so running
again after a crash finishes the rest. Under the active version the results become the calls'
current categories; under another version they are stored beside (to compare) and the calls'
current categories stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import CallErased, open_value, seal_value
from callscope.qa import categories, journeys
from callscope.scoring.resentiment import resentiment
from callscope.service.feed import call_time
from callscope.store.call_columns import write_scores
from callscope.store.db import Call, RescoreRun, utcnow

BATCH = 200  # calls per transaction
SQLITE_YIELD_S = 0.12
"""Pause after each committed batch on SQLite, s. SQLite keeps no queue of waiting writers: one
waiting in its busy handler retries at most every 100 ms, so a run that starts its next batch's
writes within a few milliseconds of committing can keep a cancellation, an upload or a saved
review waiting for many batches (CI saw a cancellation wait out the whole run). A pause longer
than the busy handler's longest sleep lets every waiting writer in between two batches; it costs
about a tenth of a batch's time. PostgreSQL locks rows, not the database, and needs none."""


class RescoreError(ValueError):
    """No such rule-set version."""


def start(sessions: sessionmaker, number: int | None, since: datetime | None, started_by: str,
          queued: bool = False) -> RescoreRun:
    """Record a new run under version ``number`` (the active one if None) of the calls whose call
    time is ``since`` or later (all if None): ``queued`` for a worker to take (:func:`claim`), else
    to be run by the caller. RescoreError if the version does not exist."""
    with sessions() as s:
        version = categories.version(s, number) if number is not None else categories.active(s)
        if version is None:
            raise RescoreError(f"there is no rule-set version {number}")
        run = RescoreRun(rules_version=version.number, since=since, status="queued" if queued else "running",
                         total=0, done=0, skipped=0,
                         failed=0, started_by=started_by, started_at=utcnow())
        s.add(run)
        s.commit()
        s.refresh(run)
        s.expunge(run)
        return run


def claim(sessions: sessionmaker, worker_id: str, lease_s: float) -> int | None:
    """A queued run, or a running one whose worker's lease ended, now this worker's; its id, or None."""
    now = utcnow()
    with sessions() as s:
        candidates = s.execute(select(RescoreRun.id).where(
            (RescoreRun.status == "queued")
            | ((RescoreRun.status == "running") & RescoreRun.worker_id.is_not(None) & (RescoreRun.lease_until < now)))
            .order_by(RescoreRun.id).limit(5)).scalars().all()
        for run_id in candidates:
            r = s.execute(update(RescoreRun).where(
                RescoreRun.id == run_id,
                (RescoreRun.status == "queued") | ((RescoreRun.status == "running") & (RescoreRun.lease_until < now)))
                .values(status="running", worker_id=worker_id, lease_until=now + timedelta(seconds=lease_s)))
            if r.rowcount == 1:
                s.commit()
                return run_id
        s.rollback()
    return None


class TakenOver(RuntimeError):
    """The run's lease ended and another worker took it over."""


class Cancelled(RuntimeError):
    """The run was cancelled (:func:`cancel`) while it ran; what it did so far stays."""


def cancel(sessions: sessionmaker, run_id: int) -> RescoreRun | None:
    """Cancel a queued or running run: a queued one is never taken, a running one stops after the
    batch at hand (at most :data:`BATCH` calls; what was done stays, and a new run resumes it).
    The run as it is now, or None if there is no such run."""
    with sessions() as s:
        s.execute(update(RescoreRun).where(RescoreRun.id == run_id, RescoreRun.status.in_(("queued", "running")))
                  .values(status="cancelled", finished_at=utcnow(), lease_until=None))
        s.commit()
        rec = s.get(RescoreRun, run_id)
        if rec is not None:
            s.expunge(rec)
        return rec


def run(sessions: sessionmaker, run_id: int, on_progress: Callable[[int, int], None] | None = None,
        worker_id: str | None = None, lease_s: float = 60.0, sentiment=None,
        journey_rules: journeys.JourneyRules | None = None) -> RescoreRun:
    """Do the run ``run_id`` (see :func:`start`): batch by batch, progress written after each (and,
    for a worker, its lease renewed; TakenOver if it was lost). With ``sentiment`` (a
    :class:`~callscope.scoring.sentiment.SentimentModel`), a call whose stored analysis was scored
    by another sentiment model is scored again from its transcript
    (:func:`callscope.scoring.resentiment.resentiment`) and its stored analysis replaced. Under the
    active version, the journeys of the batch's customers are recomputed with ``journey_rules``."""
    with sessions() as s:
        rec = s.get(RescoreRun, run_id)
        number, since = rec.rules_version, rec.since
        version = categories.version(s, number)
        assert version is not None  # a run is made for a stored version
        is_active = categories.active(s).number == number
        where = [Call.status == "done", Call.result_json.is_not(None)]
        if since is not None:
            where.append(call_time() >= since)
        total = s.execute(select(func.count()).select_from(Call).where(*where)).scalar_one()
        pause = SQLITE_YIELD_S if s.get_bind().dialect.name == "sqlite" else 0.0
        s.execute(update(RescoreRun).where(RescoreRun.id == run_id).values(total=total))
        s.commit()
    done = skipped = failed = 0
    last, status, error = "", "failed", None
    try:
        while True:
            with sessions() as s:
                calls = s.execute(select(Call).where(*where, Call.id > last).order_by(Call.id).limit(BATCH)).scalars().all()
                if not calls:
                    break
                for call in calls:
                    last = call.id
                    if is_active and call.rules_version == number and sentiment is None:
                        skipped += 1  # done before (a resumed run)
                        continue
                    try:
                        result = CallAnalysis.model_validate_json(open_value(s, call.id, "result_json", call.result_json)
                                                                  or "")  # no text: fails to parse, as None did
                    except CallErased:  # erased since the batch was read: nothing to re-score
                        skipped += 1
                        continue
                    except ValueError:  # a stored result that no longer parses: counted, never retried forever
                        failed += 1
                        continue
                    stale = (sentiment is not None and result.call_scores is not None
                             and result.call_scores.versions.get("sentiment") != sentiment.version)
                    if not stale and is_active and call.rules_version == number:
                        skipped += 1
                        continue
                    if stale:
                        result = resentiment(result, sentiment)
                        s.execute(update(Call).where(Call.id == call.id)
                                  .values(result_json=seal_value(s, call.id, "result_json", result.model_dump_json())))
                    if is_active:  # the version's bands give the level (QA corrections on top), then its categories
                        write_scores(s, call.id, categories.scored(s, call, result, version), under=version)
                    else:
                        categories.categorise(s, call, categories.scored(s, call, result, version), version, current=False)
                    done += 1
                if is_active:  # levels, reasons and outcomes may have changed: so may the journeys
                    journeys.refresh(s, [c.customer_key for c in calls], journey_rules or journeys.JourneyRules())
                mine = update(RescoreRun).where(RescoreRun.id == run_id, RescoreRun.status == "running")
                if worker_id is not None:
                    mine = mine.where(RescoreRun.worker_id == worker_id)
                renew = {"lease_until": utcnow() + timedelta(seconds=lease_s)} if worker_id else {}
                if s.execute(mine.values(done=done, skipped=skipped, failed=failed, **renew)).rowcount != 1:
                    s.rollback()  # this batch is undone: the run is no longer this worker's to write
                    if s.execute(select(RescoreRun.status).where(RescoreRun.id == run_id)).scalar() == "cancelled":
                        raise Cancelled(f"re-scoring run {run_id} was cancelled")
                    raise TakenOver(f"re-scoring run {run_id} was taken over")
                s.commit()
            if on_progress:
                on_progress(done + skipped + failed, total)
            time.sleep(pause)
        status = "done"
    except (TakenOver, Cancelled):
        raise  # the new owner, or the cancellation, records the outcome
    except Exception as exc:  # recorded for the admin who asked, then raised
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if status != "failed" or error is not None:
            with sessions() as s:  # a cancellation that came after the last batch stands
                s.execute(update(RescoreRun).where(RescoreRun.id == run_id, RescoreRun.status == "running")
                          .values(status=status, error=error, done=done, skipped=skipped, failed=failed,
                                  finished_at=utcnow(), lease_until=None))
                s.commit()
    with sessions() as s:
        rec = s.get(RescoreRun, run_id)
        s.expunge(rec)
        return rec


def describe(rec: RescoreRun) -> dict:
    return {"id": rec.id, "rules_version": rec.rules_version, "status": rec.status, "worker": rec.worker_id,
            "total": rec.total,
            "done": rec.done, "skipped": rec.skipped, "failed": rec.failed, "error": rec.error,
            "since": rec.since.isoformat() if rec.since else None, "started_by": rec.started_by,
            "started_at": rec.started_at.isoformat() if rec.started_at else None,
            "finished_at": rec.finished_at.isoformat() if rec.finished_at else None}
