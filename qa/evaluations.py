"""Evaluations: a reviewer's answers to a form (:mod:`callscope.qa.forms`) for one call.

A reviewer opens a call and gets a **draft** pre-filled with the automatic answers (each with its
evidence and confidence). They confirm or change each answer: changing an automatic answer needs
a reason and counts as a disagreement (kept beside the automatic answer, so how far the
automatic answers can be trusted is measured); they may comment per question and leave a
coaching note for the agent. Then:

* ``submit`` (the evaluation's reviewer; every question answered): draft → submitted; the call's
  review-queue item closes;
* ``acknowledge`` (a lead): submitted → acknowledged;
* ``dispute`` (a lead, or the agent of the call with an ``agent`` key): submitted or
  acknowledged → disputed, with a note;
* ``resolve`` (a lead; the answers may be changed first, with reasons): disputed → resolved.

Every change of state is an event with who and when. The reviewers' free text is sealed under the
call's key (erased with the call). Re-scoring under another form version (:func:`reform`) keeps
every answer a person gave, for the questions the new version still has, and takes the automatic
answers afresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_value, readable, seal_value
from callscope.qa import categories as rule_sets
from callscope.qa import review_queue
from callscope.qa.forms import Form, FormError, digest, load_form, prefill, score, starter_texts
from callscope.scoring.rules.evaluate import Match
from callscope.store.db import Call, Evaluation, EvaluationEvent, FormRow, utcnow

STATES = ("draft", "submitted", "acknowledged", "disputed", "resolved")
#: action → (states it may start from, the state it leads to)
TRANSITIONS = {"submit": (("draft",), "submitted"), "acknowledge": (("submitted",), "acknowledged"),
               "dispute": (("submitted", "acknowledged"), "disputed"), "resolve": (("disputed",), "resolved")}
MAX_TEXT = 2000  # characters of a reason, comment, note or coaching


class EvaluationError(ValueError):
    """A change that is not allowed (the message says why): HTTP 409 or 422."""


# ---- forms in the database -----------------------------------------------------------------------

@lru_cache(maxsize=64)
def _parsed(text: str) -> Form:
    return load_form(text)


def form_of(row: FormRow) -> Form:
    return _parsed(row.yaml)


def form_row(session: Session, form_id: int) -> FormRow:
    """The form version an evaluation or session names (they are never deleted)."""
    row = session.get(FormRow, form_id)
    assert row is not None, f"form {form_id} is gone"
    return row


def label(row: FormRow) -> str:
    """How results name a form version: ``form/<name>/<version>+<digest>``."""
    return f"form/{row.name}/{row.version}+{row.digest}"


def add_form(session: Session, text: str, created_by: str, activate: bool = False) -> FormRow:
    """A new version of the form named in ``text`` (FormError if it does not validate); the caller commits."""
    form = load_form(text)
    last = session.execute(select(FormRow.version).where(FormRow.name == form.form)
                           .order_by(FormRow.version.desc()).limit(1)).scalar_one_or_none()
    row = FormRow(name=form.form, version=(last or 0) + 1, yaml=text, digest=digest(text), active=False,
                  created_by=created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    if activate:
        activate_form(session, row.id)
    return row


def activate_form(session: Session, form_id: int) -> FormRow:
    """Make this version its form's active one (KeyError if there is none such)."""
    row = session.get(FormRow, form_id)
    if row is None:
        raise KeyError(form_id)
    for other in session.execute(select(FormRow).where(FormRow.name == row.name, FormRow.active.is_(True))).scalars():
        other.active = False
    row.active = True
    return row


def deactivate_form(session: Session, form_id: int) -> FormRow:
    row = session.get(FormRow, form_id)
    if row is None:
        raise KeyError(form_id)
    row.active = False
    return row


def ensure_starter_forms(session: Session) -> None:
    """On a deployment with no form at all, the starter forms (English, Swedish) as version 1,
    active. Two first requests at once: one installs them, the other finds them (the unique
    name and version)."""
    if session.execute(select(FormRow.id).limit(1)).first() is not None:
        return
    try:
        with session.begin_nested():
            for text in starter_texts():
                add_form(session, text, "callscope", activate=True)
    except IntegrityError:
        pass  # installed meanwhile by another request


def describe_form(row: FormRow, with_yaml: bool = False) -> dict:
    form = form_of(row)
    out = {"id": row.id, "name": row.name, "version": row.version, "label": label(row), "title": form.title,
           "language": form.language, "active": row.active, "applies_to": form.applies_to.model_dump(),
           "created_by": row.created_by, "created_at": row.created_at.isoformat() if row.created_at else None,
           "sections": [{"title": s.title, "questions": [q.model_dump(exclude_none=True) | {"answers": q.answers}
                                                          for q in s.questions]} for s in form.sections]}
    if with_yaml:
        out["yaml"] = row.yaml
    return out


def form_for(session: Session, call: Call) -> FormRow | None:
    """The active form that fits the call best (most fields named, then the newest); None if none fits."""
    fields = {"queue": call.queue, "team": call.team, "product": call.product, "language": call.language}
    best: tuple[int, int, FormRow] | None = None
    for row in session.execute(select(FormRow).where(FormRow.active.is_(True))).scalars():
        fit = form_of(row).applies_to.fits(fields)
        if fit is not None and (best is None or (fit, row.id) > best[:2]):
            best = (fit, row.id, row)
    return best[2] if best else None


# ---- the call as the form reads it --------------------------------------------------------------

@dataclass(frozen=True)
class CallView:
    """A call's analysis with QA corrections applied, and its categories under its rule set."""

    analysis: CallAnalysis
    matches: dict[str, Match]


def call_view(session: Session, call: Call) -> CallView:
    """What the automatic answers read (ValueError if the call is not analysed)."""
    call = readable(session, call)
    if call.status != "done" or not call.result_json:
        raise EvaluationError(f"call {call.id} is {call.status}: only an analysed call can be evaluated")
    under = rule_sets.version(session, call.rules_version) if call.rules_version else None
    shown = rule_sets.scored(session, call, CallAnalysis.model_validate_json(call.result_json), under)
    matches = {}
    if under is not None:
        for c in rule_sets.categories_of(session, call.id, under.number):
            matches[c["name"]] = Match(c["name"], tuple(c.get("utterances") or ()),
                                       tuple(tuple(t) for t in c.get("times") or ()), c.get("detail") or "")
    return CallView(shown, matches)


# ---- evaluations ------------------------------------------------------------------------------------

def _notes(session: Session, ev: Evaluation) -> dict:
    text = open_value(session, ev.call_id, "evaluation.notes", ev.notes) if ev.notes else None
    return json.loads(text) if text else {"answers": {}, "coaching": None}


def _store_notes(session: Session, ev: Evaluation, notes: dict) -> None:
    ev.notes = seal_value(session, ev.call_id, "evaluation.notes", json.dumps(notes, ensure_ascii=False))


def _event(session: Session, ev: Evaluation, state: str, by: str, note: str | None = None) -> None:
    session.add(EvaluationEvent(evaluation_id=ev.id, call_id=ev.call_id, state=state, by=by, at=utcnow(),
                                note=seal_value(session, ev.call_id, "evaluation.event", note) if note else None))


def start(session: Session, call: Call, reviewer: str, key_id: int | None, *, form_id: int | None = None,
          calibration_id: int | None = None) -> Evaluation:
    """The reviewer's latest evaluation of the call (in whatever state), else a new draft pre-filled under ``form_id`` (default: the active form that fits the call).
    EvaluationError if the call is not analysed or no form fits."""
    found = session.execute(select(Evaluation).where(
        Evaluation.call_id == call.id, Evaluation.reviewer == reviewer,
        Evaluation.calibration_id.is_(None) if calibration_id is None else Evaluation.calibration_id == calibration_id,
    ).order_by(Evaluation.id.desc())).scalars().first()
    if found is not None:
        return found
    row = session.get(FormRow, form_id) if form_id is not None else form_for(session, call)
    if row is None:
        raise EvaluationError("no active evaluation form applies to this call" if form_id is None else f"no form {form_id}")
    view = call_view(session, call)
    answers = prefill(form_of(row), view.analysis, view.matches)
    if calibration_id is not None:  # blind: the automatic answers are kept for the comparison, not offered
        for a in answers.values():
            a.update(answer=None, source=None)
    ev = Evaluation(call_id=call.id, form_id=row.id, reviewer=reviewer, reviewer_key_id=key_id, state="draft",
                    calibration_id=calibration_id, answers_json=json.dumps(answers), failed_critical=False,
                    disagreements=0, created_at=utcnow(), updated_at=utcnow())
    _score(ev, form_of(row), answers)
    session.add(ev)
    session.flush()
    _event(session, ev, "draft", reviewer)
    return ev


def _score(ev: Evaluation, form: Form, answers: dict) -> None:
    ev.score, ev.failed_critical = score(form, {q: a["answer"] for q, a in answers.items()})
    ev.disagreements = sum(1 for a in answers.values() if a.get("disagrees"))


def answer(session: Session, ev: Evaluation, by: str, changes: dict[str, dict], coaching: str | None = None,
           *, as_lead: bool = False) -> Evaluation:
    """Set answers: ``changes`` maps a question id to ``{"answer", "reason", "comment"}`` (each
    optional). Only the evaluation's reviewer changes a draft; a lead changes a disputed one.
    Changing an automatic answer needs a reason."""
    if ev.state == "draft":
        if ev.reviewer != by:
            raise EvaluationError(f"this draft belongs to {ev.reviewer}")
    elif not (ev.state == "disputed" and as_lead):
        raise EvaluationError(f"the evaluation is {ev.state}: answers change only in a draft, or by a lead while disputed")
    form = form_of(form_row(session, ev.form_id))
    answers = json.loads(ev.answers_json)
    notes = _notes(session, ev)
    for qid, change in changes.items():
        q = form.question(qid)
        if q is None:
            raise EvaluationError(f"the form has no question {qid!r}")
        a = answers.setdefault(qid, {"auto": None, "answer": None, "source": None})
        note = notes["answers"].setdefault(qid, {})
        for k in ("reason", "comment"):
            if change.get(k) is not None:
                text = str(change[k]).strip()[:MAX_TEXT]
                note[k] = text or None
        if "answer" in change:
            value = change["answer"]
            if value is not None and value not in q.answers:
                raise EvaluationError(f"question {qid}: {value!r} is not one of {', '.join(q.answers)}")
            auto = (a.get("auto") or {}).get("answer")
            disagrees = auto is not None and value != auto
            if disagrees and ev.calibration_id is None and not note.get("reason"):
                raise EvaluationError(f"question {qid}: changing the automatic answer ({auto}) needs a reason")
            a.update(answer=value, source="reviewer" if value is not None else None, disagrees=disagrees,
                     by=by, at=utcnow().isoformat())
        elif a.get("answer") is not None and a.get("source") == "auto":
            a.update(source="confirmed", by=by, at=utcnow().isoformat())
    if coaching is not None:
        notes["coaching"] = coaching.strip()[:MAX_TEXT] or None
    ev.answers_json = json.dumps(answers)
    _store_notes(session, ev, notes)
    _score(ev, form, answers)
    ev.updated_at = utcnow()
    return ev


def transition(session: Session, ev: Evaluation, action: str, by: str, note: str | None = None) -> Evaluation:
    """Move the evaluation on (see the module's text); EvaluationError if the state does not allow it.
    Who may do it is the caller's check (the routes: reviewer, lead, agent)."""
    starts, to = TRANSITIONS[action]
    if ev.state not in starts:
        raise EvaluationError(f"cannot {action} an evaluation that is {ev.state} (only when {' or '.join(starts)})")
    if action == "submit":
        form = form_of(form_row(session, ev.form_id))
        answers = json.loads(ev.answers_json)
        missing = [q.id for q in form.questions if (answers.get(q.id) or {}).get("answer") is None]
        if missing:
            raise EvaluationError(f"answer every question before submitting; unanswered: {', '.join(missing)}")
        ev.submitted_at = utcnow()
        if ev.calibration_id is None:
            review_queue.close(session, ev.call_id)
    if action in ("dispute", "resolve") and not (note or "").strip():
        raise EvaluationError(f"to {action}, say why (note)")
    ev.state = to
    ev.updated_at = utcnow()
    _event(session, ev, to, by, (note or "").strip()[:MAX_TEXT] or None)
    return ev


def reform(session: Session, ev: Evaluation, form_id: int, by: str) -> Evaluation:
    """A new evaluation of the same call under another form version: the answers people gave
    (confirmed or changed, with their reasons and comments) are kept for every question the new
    version still has; automatic answers are taken afresh. The new one is a draft of the same
    reviewer; the old one stays as it was."""
    row = session.get(FormRow, form_id)
    if row is None:
        raise KeyError(form_id)
    call = session.get(Call, ev.call_id)
    if call is None:
        raise EvaluationError(f"call {ev.call_id} is gone")
    view = call_view(session, call)
    new_form = form_of(row)
    answers = prefill(new_form, view.analysis, view.matches)
    old, old_notes = json.loads(ev.answers_json), _notes(session, ev)
    for qid, a in answers.items():
        before = old.get(qid)
        if before and before.get("source") in ("reviewer", "confirmed") and before.get("answer") in new_form.questions_by_id[qid].answers:
            auto = (a.get("auto") or {}).get("answer")
            a.update(answer=before["answer"], source=before["source"], by=before.get("by"), at=before.get("at"),
                     disagrees=auto is not None and before["answer"] != auto)
    out = Evaluation(call_id=ev.call_id, form_id=row.id, reviewer=ev.reviewer, reviewer_key_id=ev.reviewer_key_id,
                     state="draft", calibration_id=ev.calibration_id, answers_json=json.dumps(answers),
                     failed_critical=False, disagreements=0, created_at=utcnow(), updated_at=utcnow())
    _score(out, new_form, answers)
    session.add(out)
    session.flush()
    _store_notes(session, out, {"answers": {q: n for q, n in old_notes["answers"].items() if q in answers},
                                "coaching": old_notes.get("coaching")})
    _event(session, out, "draft", by, f"re-scored from evaluation {ev.id} under {label(row)}")
    return out


def describe(session: Session, ev: Evaluation, *, with_notes: bool = True, with_auto: bool = True) -> dict:
    """An evaluation as the API shows it: per question the text, the answer, who gave it and,
    unless hidden (``with_auto=False``, a calibration reviewer's own view), the automatic answer."""
    row = form_row(session, ev.form_id)
    form = form_of(row)
    answers = json.loads(ev.answers_json)
    notes = _notes(session, ev) if with_notes else {"answers": {}, "coaching": None}
    events = session.execute(select(EvaluationEvent).where(EvaluationEvent.evaluation_id == ev.id)
                             .order_by(EvaluationEvent.id)).scalars().all()
    questions = []
    for s in form.sections:
        for q in s.questions:
            a = answers.get(q.id) or {}
            n = notes["answers"].get(q.id) or {}
            questions.append({"id": q.id, "section": s.title, "text": q.text, "help": q.help or None, "type": q.type,
                              "answers": q.answers, "weight": q.weight, "critical": q.critical,
                              "answer": a.get("answer"), "source": a.get("source"), "disagrees": bool(a.get("disagrees")),
                              "auto": a.get("auto") if with_auto else None,
                              "reason": n.get("reason"), "comment": n.get("comment"), "by": a.get("by")})
    return {"id": ev.id, "call_id": ev.call_id, "form": label(row), "form_id": row.id, "form_title": form.title,
            "reviewer": ev.reviewer, "state": ev.state, "calibration_id": ev.calibration_id,
            "score": ev.score, "failed_critical": ev.failed_critical, "disagreements": ev.disagreements,
            "coaching": notes.get("coaching"), "questions": questions,
            "created_at": ev.created_at.isoformat(), "submitted_at": ev.submitted_at.isoformat() if ev.submitted_at else None,
            "history": [{"state": e.state, "by": e.by, "at": e.at.isoformat(),
                         "note": open_value(session, ev.call_id, "evaluation.event", e.note) if with_notes and e.note else None}
                        for e in events]}


# ---- what reports read ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """A call's evaluation as feeds and aggregates read it: score, form label, state, answers and
    each question's points (0..1; None for na or unanswered)."""

    score: float | None
    form: str
    state: str
    answers: dict[str, str | None]
    points: dict[str, float | None]


#: the states that count in reports: submitted and on (a draft is not an evaluation yet)
COUNTED = ("submitted", "acknowledged", "disputed", "resolved")


def latest_submitted(session: Session, call_ids: list[str]) -> dict[str, Outcome]:
    """Per call, its newest counted evaluation outside calibration sessions."""
    if not call_ids:
        return {}
    rows = session.execute(select(Evaluation, FormRow).join(FormRow, FormRow.id == Evaluation.form_id)
                           .where(Evaluation.call_id.in_(call_ids), Evaluation.calibration_id.is_(None),
                                  Evaluation.state.in_(COUNTED)).order_by(Evaluation.id)).all()
    out = {}
    for ev, row in rows:  # the newest wins
        form = form_of(row)
        answers = {k: v.get("answer") for k, v in json.loads(ev.answers_json).items()}
        points = {}
        for q in form.questions:
            a = answers.get(q.id)
            points[q.id] = q.points(a) if a is not None and a in q.answers else None
        out[ev.call_id] = Outcome(ev.score, label(row), ev.state, answers, points)
    return out


def active_question_ids(session: Session) -> list[str]:
    """Question ids of the active forms, in form order, each once."""
    seen: dict[str, None] = {}
    for row in session.execute(select(FormRow).where(FormRow.active.is_(True)).order_by(FormRow.name)).scalars():
        for q in form_of(row).questions:
            seen.setdefault(q.id, None)
    return list(seen)


def summarise(outcomes: list[Outcome]) -> dict:
    """Evaluations counted, their mean score (0..100) and per question the mean points (0..1)."""
    scores = [o.score for o in outcomes if o.score is not None]
    per_q: dict[str, list[float]] = {}
    for o in outcomes:
        for q, p in o.points.items():
            if p is not None:
                per_q.setdefault(q, []).append(p)
    return {"evaluations": len(outcomes), "evaluation_score": round(sum(scores) / len(scores), 2) if scores else None,
            "evaluation_questions": {q: round(sum(v) / len(v), 4) for q, v in per_q.items()}}


__all__ = ["EvaluationError", "FormError", "STATES", "add_form", "activate_form", "answer", "call_view", "describe",
           "describe_form", "ensure_starter_forms", "form_for", "latest_submitted", "active_question_ids", "summarise", "form_of", "label", "reform", "start", "transition"]
