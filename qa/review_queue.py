"""The review queue, the reviewer's start page: every red and every orange call as its analysis is
stored, and each day's spot-check sample as it is drawn, each with a due time from why it is
there (deployment settings; defaults from the field: red within 1 hour, orange within 4 hours,
the sample within 2 working days, Monday to Friday, of the draw). Items are assigned round robin
or claimed; an evaluation submitted for the call closes its item. The time from a call's analysis
to its evaluation is the KPI :func:`turnaround` reports per level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from callscope.store.db import Call, ReviewItem, insert_for, utcnow

REASONS = ("red", "orange", "sample")


@dataclass(frozen=True)
class ReviewDelays:
    """How long each kind of item may wait: hours for red and orange calls, working days for the
    spot-check sample."""

    red_h: float = 1.0
    orange_h: float = 4.0
    sample_working_days: int = 2

    def due(self, reason: str, added: datetime) -> datetime:
        if reason == "red":
            return added + timedelta(hours=self.red_h)
        if reason == "orange":
            return added + timedelta(hours=self.orange_h)
        return add_working_days(added, self.sample_working_days)


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved on by ``days`` days that are Monday to Friday (the same time of day)."""
    out = start
    while days > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            days -= 1
    return out


def _add(session: Session, call_id: str, reason: str, analysed_at: datetime, delays: ReviewDelays) -> None:
    now = utcnow()
    session.execute(insert_for(session, ReviewItem).values(
        call_id=call_id, reason=reason, added_at=now, analysed_at=analysed_at, due_at=delays.due(reason, now))
        .on_conflict_do_nothing(index_elements=["call_id"]))


def on_call_done(session: Session, call: Call, delays: ReviewDelays) -> None:
    """Queue a red or orange call whose analysis is being stored (same transaction)."""
    if call.escalation in ("red", "orange"):
        _add(session, call.id, call.escalation, utcnow(), delays)


def on_sample(session: Session, call_ids: Sequence[str], delays: ReviewDelays) -> None:
    """Queue a day's spot-check sample as it is drawn (a call already queued keeps its item)."""
    analysed = dict(session.execute(select(Call.id, Call.updated_at).where(Call.id.in_(list(call_ids)))).all())
    for cid in call_ids:
        _add(session, cid, "sample", analysed.get(cid) or utcnow(), delays)


def close(session: Session, call_id: str) -> None:
    """An evaluation of the call was submitted: its item is done."""
    session.execute(update(ReviewItem).where(ReviewItem.call_id == call_id, ReviewItem.done_at.is_(None))
                    .values(done_at=utcnow()))


def claim(session: Session, call_id: str, reviewer: str) -> ReviewItem:
    """Take an item (KeyError: not in the queue; ValueError: someone else has it)."""
    item = session.get(ReviewItem, call_id)
    if item is None:
        raise KeyError(call_id)
    if item.assignee not in (None, reviewer):
        raise ValueError(f"the call is assigned to {item.assignee}")
    item.assignee, item.assigned_at = reviewer, utcnow()
    return item


def assign_round_robin(session: Session, reviewers: Sequence[str]) -> dict[str, int]:
    """Deal the open unassigned items to ``reviewers`` in turn, soonest due first; how many each got."""
    items = session.execute(select(ReviewItem).where(ReviewItem.done_at.is_(None), ReviewItem.assignee.is_(None))
                            .order_by(ReviewItem.due_at, ReviewItem.call_id)).scalars().all()
    got = dict.fromkeys(reviewers, 0)
    now = utcnow()
    for k, item in enumerate(items):
        who = reviewers[k % len(reviewers)]
        item.assignee, item.assigned_at = who, now
        got[who] += 1
    return got


def open_items(session: Session, *, assignee: str | None = None, unassigned: bool = False, limit: int = 200,
               after: tuple[datetime, str] | None = None) -> list[tuple[ReviewItem, Call]]:
    """Open items, soonest due first (keyset pages: ``after`` = the last row's (due_at, call_id))."""
    q = select(ReviewItem, Call).join(Call, Call.id == ReviewItem.call_id).where(ReviewItem.done_at.is_(None))
    if assignee is not None:
        q = q.where(ReviewItem.assignee == assignee)
    if unassigned:
        q = q.where(ReviewItem.assignee.is_(None))
    if after is not None:
        q = q.where((ReviewItem.due_at > after[0]) | ((ReviewItem.due_at == after[0]) & (ReviewItem.call_id > after[1])))
    return [(i, c) for i, c in session.execute(q.order_by(ReviewItem.due_at, ReviewItem.call_id).limit(limit)).all()]


def counts(session: Session, now: datetime) -> dict:
    """Open items per reason, and how many are overdue."""
    rows = session.execute(select(ReviewItem.reason, func.count(), func.sum(case((ReviewItem.due_at < now, 1), else_=0)))
                           .where(ReviewItem.done_at.is_(None)).group_by(ReviewItem.reason)).all()
    by = {r: {"open": 0, "overdue": 0} for r in REASONS}
    for reason, n, late in rows:
        by[reason] = {"open": int(n), "overdue": int(late or 0)}
    return by


def turnaround(session: Session, start: datetime, end: datetime) -> dict:
    """The KPI: for items closed in [start, end), per reason, how many, the median and 90th
    percentile hours from the call's analysis to its evaluation, and the share closed on time."""
    rows = session.execute(select(ReviewItem.reason, ReviewItem.analysed_at, ReviewItem.done_at, ReviewItem.due_at)
                           .where(ReviewItem.done_at >= start, ReviewItem.done_at < end)).all()
    out = {}
    for reason in REASONS:
        closed = [(a, d, due) for r, a, d, due in rows if r == reason and d is not None]
        hours = sorted((d - a).total_seconds() / 3600 for a, d, _ in closed)
        on_time = sum(1 for _, d, due in closed if d <= due)
        out[reason] = {"evaluated": len(hours),
                       "median_h": round(_quantile(hours, 0.5), 3) if hours else None,
                       "p90_h": round(_quantile(hours, 0.9), 3) if hours else None,
                       "on_time_share": round(on_time / len(hours), 4) if hours else None}
    return out


def _quantile(xs: list[float], q: float) -> float:
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
