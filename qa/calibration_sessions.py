"""Calibration sessions: a lead picks N calls and several reviewers; each reviewer evaluates every
call under the same form, blind (they see neither each other's answers nor the automatic ones
while they answer). Once the answers are in, the session shows them side by side with, per
question:

* the reviewers' agreement: Cohen's kappa pooled over every pair of reviewers on every call
  (:func:`callscope.scoring.agreement.agreement` on the concatenated pairs), with its 95 %
  interval. The pairs of one call are not independent, so the interval is narrower than it
  should be; read it as a lower bound on the uncertainty;
* the consensus answer per call (the answer most reviewers gave; none on a tie);
* the automatic answers' agreement with the consensus, on the calls where both exist.

This is how a team learns whether the pre-filled answers can be trusted, question by question.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.qa import evaluations
from callscope.scoring.agreement import agreement
from callscope.store.db import CalibrationSession, Call, Evaluation, FormRow, utcnow

MAX_CALLS = 50
MAX_REVIEWERS = 12


def create(session: Session, name: str, call_ids: list[str], reviewers: list[str], created_by: str,
           form_id: int | None = None) -> CalibrationSession:
    """A new session (ValueError: unknown or unanalysed calls, fewer than two reviewers, no form)."""
    call_ids = list(dict.fromkeys(call_ids))
    reviewers = list(dict.fromkeys(r.strip() for r in reviewers if r.strip()))
    if not 1 <= len(call_ids) <= MAX_CALLS:
        raise ValueError(f"a calibration session has 1 to {MAX_CALLS} calls")
    if not 2 <= len(reviewers) <= MAX_REVIEWERS:
        raise ValueError(f"a calibration session has 2 to {MAX_REVIEWERS} reviewers")
    calls = {c.id: c for c in session.execute(select(Call).where(Call.id.in_(call_ids))).scalars()}
    missing = [c for c in call_ids if c not in calls or calls[c].status != "done"]
    if missing:
        raise ValueError(f"not analysed calls: {', '.join(missing[:5])}")
    row = session.get(FormRow, form_id) if form_id is not None else evaluations.form_for(session, calls[call_ids[0]])
    if row is None:
        raise ValueError("no form: name one (form_id) or activate one that applies to the first call")
    out = CalibrationSession(name=name, form_id=row.id, call_ids=json.dumps(call_ids), reviewers=json.dumps(reviewers),
                             created_by=created_by, created_at=utcnow())
    session.add(out)
    session.flush()
    return out


def _evaluations(session: Session, cal: CalibrationSession) -> list[Evaluation]:
    return list(session.execute(select(Evaluation).where(Evaluation.calibration_id == cal.id)).scalars())


def describe(session: Session, cal: CalibrationSession, viewer: str, sees_all: bool) -> dict:
    """The session for ``viewer``: its calls and reviewers, who has submitted what; the results
    (answers side by side, agreement) once every reviewer has submitted every call, or at any
    time for a lead (``sees_all``)."""
    calls, reviewers = json.loads(cal.call_ids), json.loads(cal.reviewers)
    evs = _evaluations(session, cal)
    done = {(e.reviewer, e.call_id) for e in evs if e.state != "draft"}
    complete = all((r, c) in done for r in reviewers for c in calls)
    row = evaluations.form_row(session, cal.form_id)
    out = {"id": cal.id, "name": cal.name, "form": evaluations.label(row), "form_id": row.id, "calls": calls,
           "reviewers": reviewers, "created_by": cal.created_by, "created_at": cal.created_at.isoformat(),
           "submitted": [{"reviewer": r, "call_id": c, "submitted": (r, c) in done} for r in reviewers for c in calls],
           "complete": complete, "results": None,
           "mine": [{"call_id": e.call_id, "evaluation_id": e.id, "state": e.state} for e in evs if e.reviewer == viewer]}
    if complete or sees_all:
        out["results"] = results(session, cal, evs)
    return out


def results(session: Session, cal: CalibrationSession, evs: list[Evaluation]) -> dict:
    """Answers side by side and agreement per question (see the module's text)."""
    form = evaluations.form_of(evaluations.form_row(session, cal.form_id))
    calls, reviewers = json.loads(cal.call_ids), json.loads(cal.reviewers)
    given: dict[tuple[str, str], dict] = {}
    for e in evs:
        if e.state != "draft":
            given[(e.reviewer, e.call_id)] = json.loads(e.answers_json)
    auto: dict[str, dict] = {}
    for e in evs:  # every evaluation of a call holds the same automatic answers
        auto.setdefault(e.call_id, json.loads(e.answers_json))
    questions = []
    for q in form.questions:
        table, pairs_a, pairs_b, auto_l, cons_l = [], [], [], [], []
        for c in calls:
            answers = {r: (given.get((r, c)) or {}).get(q.id, {}).get("answer") for r in reviewers}
            present = [a for a in answers.values() if a is not None]
            for (_, a), (_, b) in combinations([(r, a) for r, a in answers.items() if a is not None], 2):
                pairs_a.append(a)
                pairs_b.append(b)
            top = Counter(present).most_common(2)
            consensus = top[0][0] if top and (len(top) == 1 or top[0][1] > top[1][1]) else None
            machine = ((auto.get(c) or {}).get(q.id) or {}).get("auto") or {}
            if consensus is not None and machine.get("answer") is not None:
                auto_l.append(machine["answer"])
                cons_l.append(consensus)
            table.append({"call_id": c, "answers": answers, "consensus": consensus, "auto": machine.get("answer"),
                          "auto_suggested": machine.get("suggested")})
        questions.append({"id": q.id, "text": q.text, "calls": table,
                          "reviewers_agreement": agreement(pairs_a, pairs_b).as_dict(),
                          "auto_vs_consensus": agreement(auto_l, cons_l).as_dict()})
    return {"questions": questions,
            "scores": [{"reviewer": r, "call_id": c, "score": e.score} for e in evs if e.state != "draft"
                       for r, c in [(e.reviewer, e.call_id)]]}
