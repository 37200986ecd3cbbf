"""Spot checks: each day a stratified sample of the analysed calls goes to QA review, and what the
reviewers say is measured against the model (:mod:`callscope.scoring.agreement`).

**Sampling.** Each call gets a size ``f``: 3 for red calls, 2 for calls whose level has a
confidence below :data:`LOW_CONFIDENCE`, else 1; its chance of being drawn is
``p = share × N × f / Σf`` (at most 1), so the expected sample is ``share`` of the day's ``N``
calls. The calls are split into strata by team, escalation level and size (``team | level``,
plus ``| low confidence`` for the calls of size 2), so every call of a stratum has the same
chance. Each stratum draws ``round(Σp)`` of its calls (stochastic rounding), without replacement,
from a generator seeded by the day: sampling a day twice gives the same calls. With one chance
per stratum the weights of a day add up to its calls within the rounding (about 0.5 % on 10,000
calls; mixing sizes in a stratum made it swing by 1.6 %). The weight ``1 / p`` is stored with each call, so that weighted
estimates describe all calls, not the over-sampled red ones.

**Review.** A reviewer confirms a sampled call, or corrects it first (the existing corrections):
the reviewer's level is the call's corrected level, and the reviewer may say which categories
should have matched. :func:`quality` reports the weighted agreement per period.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_value
from callscope.qa import categories as rule_sets
from callscope.qa import review_queue
from callscope.qa.review_queue import ReviewDelays
from callscope.scoring.agreement import agreement
from callscope.service.feed import call_time, day_bounds
from callscope.store.db import Call, SpotCheck, SpotCheckDraw, utcnow

LOW_CONFIDENCE = 0.6  # a level below this confidence is over-sampled
OVERSAMPLE = {"red": 3.0, "low confidence": 2.0}
LOW_CONFIDENCE_REASON = "oversampled: low confidence"


def _size(level: str | None, confidence: float | None) -> tuple[float, str]:
    if level == "red":
        return OVERSAMPLE["red"], "oversampled: red"
    if confidence is not None and confidence < LOW_CONFIDENCE:
        return OVERSAMPLE["low confidence"], LOW_CONFIDENCE_REASON
    return 1.0, "sampled"


def sample_day(session: Session, day: date, share: float, delays: ReviewDelays | None = None) -> dict:
    """Draw ``day``'s sample (``share`` 0.01..0.20 of its analysed calls) unless it was drawn
    already, and put it in the review queue (due after ``delays``); the caller commits. Returns
    what was drawn: calls, sampled, per stratum."""
    if not 0.01 <= share <= 0.20:
        raise ValueError("the spot-check share is 1 % to 20 %")
    key = day.isoformat()
    if session.get(SpotCheckDraw, key) is not None:
        return {"day": key, "already_sampled": True}
    start, end = day_bounds(day)
    rows = session.execute(select(Call.id, Call.team, Call.escalation, Call.escalation_confidence)
                           .where(Call.status == "done", call_time() >= start, call_time() < end)
                           .order_by(Call.id)).all()
    session.add(SpotCheckDraw(day=key, share=share, calls=len(rows), sampled=0, drawn_at=utcnow()))
    if not rows:
        return {"day": key, "calls": 0, "sampled": 0, "strata": {}}
    sizes = {cid: _size(level, conf) for cid, _, level, conf in rows}
    scale = share * len(rows) / sum(f for f, _ in sizes.values())
    strata: dict[str, list[tuple[str, float, float, str]]] = defaultdict(list)
    for cid, team, level, _ in rows:
        f, reason = sizes[cid]
        low = " | low confidence" if reason == LOW_CONFIDENCE_REASON else ""  # red calls are never this
        strata[f"{team or '(none)'} | {level or '(none)'}{low}"].append(
            (cid, f, min(1.0, scale * f), reason))
    rng = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
    drawn, report = [], {}
    for name in sorted(strata):
        members = strata[name]
        expected = sum(p for _, _, p, _ in members)
        n = min(len(members), math.floor(expected) + (rng.random() < expected - math.floor(expected)))
        keyed = sorted(members, key=lambda m: rng.random() ** (1.0 / m[1]), reverse=True)[:n]
        drawn += [(name, m) for m in keyed]
        report[name] = {"calls": len(members), "sampled": n}
    now = utcnow()
    draw = session.get(SpotCheckDraw, key)
    assert draw is not None  # made above in this transaction
    draw.sampled = len(drawn)
    session.add_all([SpotCheck(call_id=cid, day=key, stratum=name, probability=p, weight=1.0 / p, reason=reason,
                               status="open", created_at=now) for name, (cid, _, p, reason) in drawn])
    review_queue.on_sample(session, [cid for _, (cid, *_rest) in drawn], delays or ReviewDelays())
    return {"day": key, "calls": len(rows), "sampled": len(drawn), "strata": report}


def review(session: Session, call_id: str, reviewer: str, categories: list[str] | None) -> SpotCheck:
    """Record a reviewer's verdict on a sampled call: its level as it stands now (corrected or
    confirmed) against the level as analysed, and the categories (the reviewer's list, or the
    call's own when not given: confirmed). KeyError if the call is not in a sample."""
    check = session.get(SpotCheck, call_id)
    call = session.get(Call, call_id)
    if check is None or call is None:
        raise KeyError(call_id)
    text = open_value(session, call_id, "result_json", call.result_json)
    analysed = CallAnalysis.model_validate_json(text) if text else None
    if analysed is not None and call.rules_version:  # the model's level: with the deployment's bands, before QA
        under = rule_sets.version(session, call.rules_version)
        assert under is not None  # a call's rules version is never deleted
        analysed = rule_sets.apply_bands(analysed, rule_sets.bands_for(under, call), under.label)
    level = analysed.call_scores.escalation.value if analysed and analysed.call_scores else None
    model_level = str(level) if level is not None else None  # the escalation score's value is its level
    current = rule_sets.categories_by_call(session, [call]).get(call.id, [])
    check.status, check.reviewer, check.reviewed_at = "reviewed", reviewer, utcnow()
    check.model_level, check.reviewer_level = model_level, call.escalation
    check.categories_model = ";".join(current)
    check.categories_reviewer = ";".join(sorted(set(categories if categories is not None else current)))
    return check


def quality(session: Session, start: datetime, end: datetime, period: str = "week") -> dict:
    """Model-versus-reviewer agreement on the calls reviewed in [start, end): overall and per
    ``period`` (day or week, by review time): on the level (accuracy, Cohen's kappa, with 95 %
    intervals, weighted), per reviewer level (how often the model agreed), and per category
    (present or not)."""
    checks = session.execute(select(SpotCheck).where(SpotCheck.status == "reviewed", SpotCheck.reviewed_at >= start,
                                                     SpotCheck.reviewed_at < end)
                             .order_by(SpotCheck.reviewed_at)).scalars().all()

    def summary(group: Sequence[SpotCheck]) -> dict:
        pairs = [(c.model_level or "(none)", c.reviewer_level or "(none)", c.weight) for c in group]
        out = {"level": agreement([a for a, _, _ in pairs], [b for _, b, _ in pairs], [w for *_, w in pairs]).as_dict()}
        per_level = {}
        for lvl in sorted({b for _, b, _ in pairs}):
            sub = [(a, b, w) for a, b, w in pairs if b == lvl]
            per_level[lvl] = agreement([a for a, _, _ in sub], [b for _, b, _ in sub], [w for *_, w in sub]).as_dict()
        out["per_reviewer_level"] = per_level
        names = sorted({n for c in group for n in (c.categories_model or "").split(";") + (c.categories_reviewer or "").split(";") if n})
        per_cat = {}
        for name in names:
            model = ["yes" if name in (c.categories_model or "").split(";") else "no" for c in group]
            rev = ["yes" if name in (c.categories_reviewer or "").split(";") else "no" for c in group]
            per_cat[name] = agreement(model, rev, [c.weight for c in group]).as_dict()
        out["per_category"] = per_cat
        return out

    buckets: dict[str, list[SpotCheck]] = defaultdict(list)
    for c in checks:
        at = c.reviewed_at
        assert at is not None  # reviewed checks only
        label = at.date().isoformat() if period == "day" else (at.date() - timedelta(days=at.weekday())).isoformat()
        buckets[label].append(c)
    return {"from": start.isoformat(), "to": end.isoformat(), "reviewed": len(checks), **summary(checks),
            "periods": [{"period": k, "reviewed": len(v), **summary(v)} for k, v in sorted(buckets.items())]}
