"""A durable job queue in the database.

A worker *claims* a job with a conditional UPDATE (the row changes only if it is still
claimable), so two workers never run one job, on SQLite or PostgreSQL alike. A claim is a
lease: the worker renews it with heartbeats; when a worker dies (kill -9), its lease runs out
and the job is claimable again. A job that raised is retried after a back-off that doubles;
after ``max_attempts`` runs it is marked failed with the error, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from callscope.alerts import outbox as alerts
from callscope.analysis.schema import CallAnalysis
from callscope.qa import categories, journeys, review_queue
from callscope.qa.review_queue import ReviewDelays
from callscope.store.call_columns import final_status, write_scores
from callscope.store.db import Call, Job, utcnow


@dataclass(frozen=True)
class Claim:
    job_id: int
    call_id: str
    attempt: int


def enqueue(session: Session, call_id: str) -> Job:
    job = Job(call_id=call_id, status="queued", attempts=0, next_run_at=utcnow())
    session.add(job)
    return job


def _claimable(now):
    return or_(
        and_(Job.status == "queued", Job.next_run_at <= now),
        and_(Job.status == "running", Job.lease_until < now),  # its worker stopped heart-beating
    )


def claim(sessions: sessionmaker, worker_id: str, lease_s: float, max_attempts: int,
          text_only: bool = False) -> Claim | None:
    """Take the oldest claimable job (``text_only``: of a text interaction still waiting for its
    scoring), or None. A job whose lease ran out after its last allowed attempt is marked failed
    instead of being run again."""
    with sessions() as s:
        for _ in range(5):  # another worker may win the race for a row: try the next one
            now = utcnow()
            # columns, not an ORM object: the UPDATEs below then have no session state to sync
            query = select(Job.id, Job.call_id, Job.attempts, Job.last_error).where(_claimable(now))
            if text_only:
                query = query.where(Job.call_id.in_(select(Call.id).where(Call.source_json.is_not(None))))
            job = s.execute(query.order_by(Job.id).limit(1)).one_or_none()
            if job is None:
                return None
            if job.attempts >= max_attempts:
                done = s.execute(update(Job).where(Job.id == job.id, _claimable(now)).values(
                    status="failed", lease_until=None,
                    last_error=(job.last_error or f"worker stopped during attempt {job.attempts}")))
                if done.rowcount == 1:
                    s.execute(update(Call).where(Call.id == job.call_id).values(
                        status="failed", error=f"gave up after {job.attempts} attempts: {job.last_error or 'worker stopped'}"))
                s.commit()
                continue
            result = s.execute(
                update(Job)
                .where(Job.id == job.id, _claimable(now))
                .values(status="running", worker_id=worker_id, attempts=Job.attempts + 1,
                        lease_until=now + timedelta(seconds=lease_s))
            )
            s.commit()
            if result.rowcount == 1:
                s.execute(update(Call).where(Call.id == job.call_id).values(status="running", stage="queued", progress=0.0))
                s.commit()
                return Claim(job.id, job.call_id, job.attempts + 1)
        return None


def heartbeat(sessions: sessionmaker, claim_: Claim, worker_id: str, lease_s: float) -> bool:
    """Renew the lease; False if the job is no longer this worker's (it was reclaimed)."""
    with sessions() as s:
        r = s.execute(update(Job).where(Job.id == claim_.job_id, Job.worker_id == worker_id, Job.status == "running")
                      .values(lease_until=utcnow() + timedelta(seconds=lease_s)))
        s.commit()
        return r.rowcount == 1


def still_running(sessions: sessionmaker, claim_: Claim, worker_id: str) -> bool:
    """Whether the job is still this worker's to run (False once its call is erased, or its
    lease was taken over)."""
    with sessions() as s:
        return s.execute(select(Job.id).where(Job.id == claim_.job_id, Job.worker_id == worker_id,
                                              Job.status == "running")).first() is not None


def complete(sessions: sessionmaker, claim_: Claim, worker_id: str, result: CallAnalysis,
             delays: ReviewDelays | None = None, insights_ready: dict | None = None, journey_rules=None) -> bool:
    """Store the result (and its score columns) and close the job, atomically, putting a red or
    orange call in the review queue (due after ``delays``); False if the lease was lost meanwhile."""
    with sessions() as s:
        r = s.execute(update(Job).where(Job.id == claim_.job_id, Job.worker_id == worker_id, Job.status == "running")
                      .values(status="done", lease_until=None))
        if r.rowcount != 1:
            s.rollback()
            return False
        row = s.get(Call, claim_.call_id)
        active = categories.active(s)
        final = categories.scored(s, row, result, active) if row is not None else result
        call, matches, version = write_scores(s, claim_.call_id, final, under=active, insights_ready=insights_ready,
                                              status=final_status(result), stage="done",
                                              progress=1.0, error=None, result_json=result.model_dump_json(),
                                              source_json=None)  # a text interaction's unredacted messages go
        if call is not None:  # alerts go to the outbox with the result: both or neither
            alerts.on_call_done(s, call, call.escalation, matches, version.rules, version.label)
            review_queue.on_call_done(s, call, delays or ReviewDelays())
            journeys.refresh(s, [call.customer_key], journey_rules or journeys.JourneyRules())
        s.commit()
        return True


def fail(sessions: sessionmaker, claim_: Claim, worker_id: str, error: str, max_attempts: int,
         backoff_s: float, permanent: bool = False) -> None:
    """Record a failed attempt: retry later with back-off, or mark the job and call failed
    (``permanent`` errors such as undecodable audio are not retried)."""
    with sessions() as s:
        job = s.get(Job, claim_.job_id)
        if job is None or job.worker_id != worker_id or job.status != "running":
            return
        if permanent or job.attempts >= max_attempts:
            job.status, job.lease_until, job.last_error = "failed", None, error
            s.execute(update(Call).where(Call.id == claim_.call_id).values(status="failed", error=error))
        else:
            job.status, job.lease_until, job.last_error = "queued", None, error
            job.next_run_at = utcnow() + timedelta(seconds=backoff_s * 2 ** (job.attempts - 1))
            s.execute(update(Call).where(Call.id == claim_.call_id).values(status="queued", error=f"retrying: {error}"))
        s.commit()
