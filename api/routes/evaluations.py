"""Routes of the QA workflow: evaluation forms, evaluations and their states, comments on a
moment, the review queue and calibration sessions (:mod:`callscope.qa.evaluations` and its
neighbours). Scopes: ``read`` reads, ``review`` evaluates and comments, ``lead`` acknowledges,
resolves, assigns and calibrates, ``agent`` sees its own agent's evaluations, ``admin`` manages forms."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from callscope.api.deps import Admin, Agent, Caller, CallId, Lead, Reader, Reviewer, Svc, check_days
from callscope.api.workflow_responses import (
    AgentEvaluationsOut,
    AssignOut,
    CalibrationOut,
    ClaimOut,
    CommentListOut,
    CommentOut,
    EvaluationListOut,
    EvaluationOut,
    FormListOut,
    FormOut,
    QueueOut,
    TurnaroundOut,
)
from callscope.qa import calibration_sessions, comments, evaluations, review_queue
from callscope.qa.forms import FormError
from callscope.service.auth import Principal
from callscope.service.feed import day_bounds
from callscope.store.db import CalibrationSession, Call, Evaluation, FormRow, utcnow

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=evaluations.MAX_TEXT)]


def _conflict(exc: evaluations.EvaluationError) -> HTTPException:
    return HTTPException(409, str(exc))


# ---- forms -------------------------------------------------------------------------------------------

class FormIn(BaseModel):
    yaml: str = Field(max_length=200_000, description="the form in YAML (see the starter forms: GET /v1/forms)")
    activate: bool = Field(False, description="make it its form's active version")


@router.get("/v1/forms", response_model=FormListOut, response_model_exclude_unset=True, tags=["qa workflow"])
def list_forms(svc: Svc, _who: Reader) -> dict:
    """Every form version, newest first; ``active`` ones are used for new evaluations (the starter
    forms, customer service in English and Swedish, are installed on first use)."""
    with svc.sessions() as s:
        evaluations.ensure_starter_forms(s)
        s.commit()
        rows = s.execute(select(FormRow).order_by(FormRow.name, FormRow.version.desc())).scalars().all()
        return {"forms": [evaluations.describe_form(r) for r in rows]}


@router.get("/v1/forms/{form_id}", response_model=FormOut, tags=["qa workflow"])
def get_form(form_id: Id, svc: Svc, _who: Reader) -> dict:
    """One form version, with its YAML."""
    with svc.sessions() as s:
        row = s.get(FormRow, form_id)
        if row is None:
            raise HTTPException(404, f"no form {form_id}")
        return evaluations.describe_form(row, with_yaml=True)


@router.post("/v1/forms", status_code=201, response_model=FormOut, response_model_exclude_unset=True, tags=["qa workflow"],
             responses={422: {"description": "the YAML does not validate; the message says where"}})
def add_form(body: FormIn, svc: Svc, who: Admin) -> dict:
    """A new version of the form the YAML names (earlier versions never change)."""
    with svc.sessions() as s:
        try:
            row = evaluations.add_form(s, body.yaml, who.name, activate=body.activate)
        except FormError as exc:
            raise HTTPException(422, f"form: {exc}") from exc
        s.commit()
        return evaluations.describe_form(row)


@router.post("/v1/forms/{form_id}/{action}", response_model=FormOut, response_model_exclude_unset=True, tags=["qa workflow"])
def activate_form(form_id: Id, action: Literal["activate", "deactivate"], svc: Svc, _who: Admin) -> dict:
    """Make this version its form's active one (``activate``), or take it out of use (``deactivate``)."""
    with svc.sessions() as s:
        try:
            row = (evaluations.activate_form if action == "activate" else evaluations.deactivate_form)(s, form_id)
        except KeyError:
            raise HTTPException(404, f"no form {form_id}") from None
        s.commit()
        return evaluations.describe_form(row)


# ---- evaluations ------------------------------------------------------------------------------------

class StartIn(BaseModel):
    form_id: int | None = Field(None, ge=1, le=2**31 - 1, description="default: the active form that fits the call")


class AnswerIn(BaseModel):
    answer: str | None = Field(None, max_length=80, description="one of the question's answers; null clears it")
    reason: Text | None = Field(None, description="why an automatic answer is changed (required then)")
    comment: Text | None = None


class AnswersIn(BaseModel):
    answers: dict[Annotated[str, Field(max_length=63)], AnswerIn] = Field(default_factory=dict, max_length=200,
                                                                          description="question id → answer")
    confirm: list[Annotated[str, Field(max_length=63)]] = Field(default_factory=list, max_length=200,
                                                                description="question ids whose automatic answer is confirmed as it is")
    coaching: Text | None = Field(None, description="a coaching note to the agent")


class NoteIn(BaseModel):
    note: Text | None = Field(None, description="why (required to dispute and to resolve)")


class ReformIn(BaseModel):
    form_id: int = Field(ge=1, le=2**31 - 1, description="the form version to re-score under")


def _evaluation(s, evaluation_id: int) -> Evaluation:
    ev = s.get(Evaluation, evaluation_id)
    if ev is None:
        raise HTTPException(404, f"no evaluation {evaluation_id}")
    return ev


def _blind(s, ev: Evaluation, who: Principal) -> bool:
    """Whether ``who`` must not see this calibration evaluation (another reviewer's, session open)."""
    if ev.calibration_id is None or ev.reviewer == who.name or who.allows("lead"):
        return False
    cal = s.get(CalibrationSession, ev.calibration_id)
    return cal is None or not calibration_sessions.describe(s, cal, who.name, False)["complete"]


def _shown(s, ev: Evaluation, who: Principal) -> dict:
    own_calibration = ev.calibration_id is not None and ev.reviewer == who.name and ev.state == "draft"
    return evaluations.describe(s, ev, with_auto=not own_calibration)


@router.get("/v1/calls/{call_id}/evaluations", response_model=EvaluationListOut, tags=["qa workflow"])
def call_evaluations(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """The call's evaluations (calibration ones left out), newest first."""
    with svc.sessions() as s:
        rows = s.execute(select(Evaluation, Call).join(Call, Call.id == Evaluation.call_id)
                         .where(Evaluation.call_id == call_id, Evaluation.calibration_id.is_(None))
                         .order_by(Evaluation.id.desc())).all()
        return {"evaluations": [_row(s, e, c) for e, c in rows]}


def _row(s, e: Evaluation, c: Call) -> dict:
    return {"id": e.id, "call_id": e.call_id, "form": evaluations.label(s.get(FormRow, e.form_id)), "reviewer": e.reviewer,
            "state": e.state, "score": e.score, "failed_critical": e.failed_critical, "disagreements": e.disagreements,
            "agent_id": c.agent_id, "team": c.team, "queue": c.queue,
            "submitted_at": e.submitted_at.isoformat() if e.submitted_at else None, "url": f"/v1/evaluations/{e.id}"}


@router.post("/v1/calls/{call_id}/evaluations", response_model=EvaluationOut, tags=["qa workflow"],
             responses={409: {"description": "the call is not analysed, or no active form applies to it"}})
def start_evaluation(call_id: CallId, svc: Svc, who: Reviewer, body: Annotated[StartIn | None, Body()] = None) -> dict:
    """The reviewer's evaluation of the call: their latest one, or a new draft pre-filled from
    the analysis (each automatic answer with its evidence and confidence; questions without
    evidence are left for the reviewer)."""
    with svc.sessions() as s:
        call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        evaluations.ensure_starter_forms(s)
        try:
            ev = evaluations.start(s, call, who.name, who.key_id, form_id=body.form_id if body else None)
        except evaluations.EvaluationError as exc:
            raise _conflict(exc) from exc
        s.commit()
        return evaluations.describe(s, ev)


@router.get("/v1/evaluations", response_model=EvaluationListOut, tags=["qa workflow"])
def list_evaluations(svc: Svc, _who: Reader,
                     state: Annotated[Literal["draft", "submitted", "acknowledged", "disputed", "resolved"] | None, Query()] = None,
                     agent_id: Annotated[str | None, Query(max_length=200)] = None,
                     team: Annotated[str | None, Query(max_length=200)] = None,
                     date_from: Annotated[date | None, Query(alias="from", description="submitted on or after (UTC)")] = None,
                     date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    """Evaluations (calibration ones left out), newest first: a lead's list of what to acknowledge
    (``state=submitted``) or resolve (``state=disputed``)."""
    check_days(date_from, date_to)
    q = (select(Evaluation, Call).join(Call, Call.id == Evaluation.call_id).where(Evaluation.calibration_id.is_(None))
         .order_by(Evaluation.id.desc()).limit(limit))
    if state:
        q = q.where(Evaluation.state == state)
    if agent_id:
        q = q.where(Call.agent_id == agent_id)
    if team:
        q = q.where(Call.team == team)
    if date_from:
        q = q.where(Evaluation.submitted_at >= day_bounds(date_from)[0])
    if date_to:
        q = q.where(Evaluation.submitted_at < day_bounds(date_to)[1])
    with svc.sessions() as s:
        return {"evaluations": [_row(s, e, c) for e, c in s.execute(q).all()]}


@router.get("/v1/evaluations/{evaluation_id}", response_model=EvaluationOut, tags=["qa workflow"])
def get_evaluation(evaluation_id: Id, svc: Svc, who: Reader) -> dict:
    """One evaluation: every question with its answer, the automatic answer and its evidence, who
    answered, reasons and comments, the coaching note and the history of its states."""
    with svc.sessions() as s:
        ev = _evaluation(s, evaluation_id)
        if _blind(s, ev, who):
            raise HTTPException(403, "a calibration session's answers are shown once every reviewer has submitted")
        return _shown(s, ev, who)


@router.patch("/v1/evaluations/{evaluation_id}", response_model=EvaluationOut, tags=["qa workflow"],
              responses={409: {"description": "not a draft of yours (or a disputed one, for a lead)"},
                         422: {"description": "an answer the question does not accept, or a change without reason"}})
def answer_evaluation(evaluation_id: Id, body: AnswersIn, svc: Svc, who: Reviewer) -> dict:
    """Give, change or confirm answers, with reasons and comments, and the coaching note. Changing
    an automatic answer needs a reason; it is recorded as a disagreement."""
    with svc.sessions() as s:
        ev = _evaluation(s, evaluation_id)
        changes = {q: a.model_dump(exclude_unset=True) for q, a in body.answers.items()}
        for q in body.confirm:
            changes.setdefault(q, {})
        try:
            evaluations.answer(s, ev, who.name, changes, body.coaching, as_lead=who.allows("lead"))
        except evaluations.EvaluationError as exc:
            status = 409 if "evaluation is" in str(exc) or "belongs to" in str(exc) else 422
            raise HTTPException(status, str(exc)) from exc
        s.commit()
        return _shown(s, ev, who)


@router.post("/v1/evaluations/{evaluation_id}/rescore", response_model=EvaluationOut, tags=["qa workflow"])
def rescore_evaluation(evaluation_id: Id, body: ReformIn, svc: Svc, who: Reviewer) -> dict:
    """A new draft of the same call under another form version, keeping every answer a person gave
    for the questions it still has; automatic answers are taken afresh."""
    with svc.sessions() as s:
        ev = _evaluation(s, evaluation_id)
        try:
            out = evaluations.reform(s, ev, body.form_id, who.name)
        except KeyError:
            raise HTTPException(404, f"no form {body.form_id}") from None
        except evaluations.EvaluationError as exc:
            raise _conflict(exc) from exc
        s.commit()
        return evaluations.describe(s, out)


@router.post("/v1/evaluations/{evaluation_id}/{action}", response_model=EvaluationOut, tags=["qa workflow"],
             responses={403: {"description": "the action is not this key's to take"},
                        409: {"description": "the evaluation's state does not allow it, or questions are unanswered"}})
def move_evaluation(evaluation_id: Id, action: Literal["submit", "acknowledge", "dispute", "resolve"], svc: Svc,
                    who: Caller,
                    body: Annotated[NoteIn | None, Body()] = None) -> dict:
    """``submit`` (the reviewer; every question answered) → submitted; ``acknowledge`` (a lead) →
    acknowledged; ``dispute`` (a lead) → disputed, with a note; ``resolve`` (a lead, after any
    changes) → resolved, with a note. Agents dispute through ``POST /v1/me/evaluations/{id}/dispute``."""
    with svc.sessions() as s:
        ev = _evaluation(s, evaluation_id)
        if action == "submit" and not (who.allows("review") and ev.reviewer == who.name):
            raise HTTPException(403, f"only the evaluation's reviewer ({ev.reviewer}) submits it")
        if action != "submit" and not who.allows("lead"):
            raise HTTPException(403, f"API key '{who.name}' lacks the 'lead' scope to {action}")
        try:
            evaluations.transition(s, ev, action, who.name, body.note if body else None)
        except evaluations.EvaluationError as exc:
            raise _conflict(exc) from exc
        s.commit()
        return _shown(s, ev, who)


# ---- the agent's own view -------------------------------------------------------------------------

def _agent_rows(s, who: Principal) -> list[tuple[Evaluation, Call]]:
    if not who.agent_id:
        raise HTTPException(403, "this key is not bound to an agent (create it with --scope agent --agent-id …)")
    return list(s.execute(select(Evaluation, Call).join(Call, Call.id == Evaluation.call_id)
                          .where(Call.agent_id == who.agent_id, Evaluation.calibration_id.is_(None),
                                 Evaluation.state != "draft").order_by(Evaluation.id.desc()).limit(500)).all())


@router.get("/v1/me/evaluations", response_model=AgentEvaluationsOut, tags=["qa workflow"])
def my_evaluations(svc: Svc, who: Agent) -> dict:
    """For an ``agent`` key: the agent's own submitted evaluations with answers, comments and
    coaching; no transcript, audio or customer data, and no other agent's call."""
    with svc.sessions() as s:
        out = []
        for ev, call in _agent_rows(s, who):
            d = evaluations.describe(s, ev)
            out.append({"evaluation_id": ev.id, "call_id": call.id,
                        "recorded_at": (call.recorded_at or call.created_at).isoformat(), "duration_s": call.duration_s,
                        "form": d["form"], "state": d["state"], "score": d["score"], "failed_critical": d["failed_critical"],
                        "coaching": d["coaching"], "history": d["history"],
                        "questions": [{k: q[k] for k in ("id", "section", "text", "answer", "comment")} for q in d["questions"]]})
        return {"agent_id": who.agent_id, "evaluations": out}


@router.post("/v1/me/evaluations/{evaluation_id}/dispute", response_model=AgentEvaluationsOut, tags=["qa workflow"])
def dispute_mine(evaluation_id: Id, body: NoteIn, svc: Svc, who: Agent) -> dict:
    """The agent disputes one of their evaluations (submitted or acknowledged), saying why."""
    with svc.sessions() as s:
        ev = next((e for e, _ in _agent_rows(s, who) if e.id == evaluation_id), None)
        if ev is None:
            raise HTTPException(404, f"no evaluation {evaluation_id} of agent {who.agent_id}")
        try:
            evaluations.transition(s, ev, "dispute", who.name, body.note)
        except evaluations.EvaluationError as exc:
            raise _conflict(exc) from exc
        s.commit()
    return my_evaluations(svc, who)


# ---- comments on a moment -----------------------------------------------------------------------------

class CommentIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=comments.MAX_COMMENT)]
    utterance: int | None = Field(None, ge=0, le=1_000_000, description="the utterance commented on")
    at_s: float | None = Field(None, ge=0, le=86_400, description="seconds from the start; default the utterance's start")


@router.get("/v1/calls/{call_id}/comments", response_model=CommentListOut, tags=["qa workflow"])
def list_comments(call_id: CallId, svc: Svc, _who: Reader) -> dict:
    """Comments on moments of the call, in time order."""
    with svc.sessions() as s:
        return {"comments": comments.of_call(s, call_id)}


@router.post("/v1/calls/{call_id}/comments", status_code=201, response_model=CommentOut, tags=["qa workflow"])
def add_comment(call_id: CallId, body: CommentIn, svc: Svc, who: Reviewer) -> dict:
    """A comment on an utterance or a moment (shown in the transcript and on the timeline)."""
    with svc.sessions() as s:
        call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        at_s = body.at_s
        if body.utterance is not None and at_s is None:
            view = evaluations.call_view(s, call)
            if body.utterance >= len(view.analysis.utterances):
                raise HTTPException(422, f"the call has {len(view.analysis.utterances)} utterances")
            at_s = view.analysis.utterances[body.utterance].start
        if at_s is None:
            raise HTTPException(422, "name the utterance or the time (at_s)")
        row = comments.add(s, call_id, who.name, body.text, at_s, body.utterance)
        s.commit()
        return comments.describe(s, row)


# ---- the review queue ---------------------------------------------------------------------------------

def _cursor(item) -> str:
    return base64.urlsafe_b64encode(json.dumps([item.due_at.isoformat(), item.call_id]).encode()).decode()


@router.get("/v1/review-queue", response_model=QueueOut, tags=["qa workflow"])
def review_queue_page(svc: Svc, who: Reviewer,
                      mine: Annotated[bool, Query(description="only the items assigned to this key")] = False,
                      unassigned: Annotated[bool, Query(description="only items nobody has")] = False,
                      cursor: Annotated[str | None, Query(max_length=500)] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    """Open items, soonest due first: red and orange calls as analysed, the day's spot-check
    sample; each with its due time (``CALLSCOPE_REVIEW_DUE_*``), whether it is overdue and who has it."""
    after = None
    if cursor:
        try:
            due, cid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            after = (datetime.fromisoformat(due), str(cid))
        except Exception as exc:  # noqa: BLE001
            raise HTTPException(400, "invalid cursor: pass the next_cursor of a previous page") from exc
    now = utcnow()
    with svc.sessions() as s:
        rows = review_queue.open_items(s, assignee=who.name if mine else None, unassigned=unassigned, limit=limit, after=after)
        return {"items": [{"call_id": c.id, "url": f"/calls/{c.id}", "reason": i.reason, "level": c.escalation,
                           "agent_id": c.agent_id, "team": c.team, "queue": c.queue, "duration_s": c.duration_s,
                           "customer_sentiment": c.customer_sentiment, "added_at": i.added_at.isoformat(),
                           "due_at": i.due_at.isoformat(), "overdue": i.due_at < now, "assignee": i.assignee}
                          for i, c in rows],
                "counts": review_queue.counts(s, now),
                "next_cursor": _cursor(rows[-1][0]) if len(rows) == limit else None}


@router.post("/v1/review-queue/{call_id}/claim", response_model=ClaimOut, tags=["qa workflow"],
             responses={409: {"description": "another reviewer has it"}})
def claim_item(call_id: CallId, svc: Svc, who: Reviewer) -> dict:
    """Take a queued call for yourself."""
    with svc.sessions() as s:
        try:
            item = review_queue.claim(s, call_id, who.name)
        except KeyError:
            raise HTTPException(404, f"call {call_id} is not in the review queue") from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        s.commit()
        return {"call_id": call_id, "assignee": who.name, "assigned_at": (item.assigned_at or utcnow()).isoformat()}


class AssignIn(BaseModel):
    reviewers: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=100)


@router.post("/v1/review-queue/assign", response_model=AssignOut, tags=["qa workflow"])
def assign_items(body: AssignIn, svc: Svc, _who: Lead) -> dict:
    """Deal the open, unassigned items to the reviewers named (their keys' names), round robin,
    soonest due first."""
    with svc.sessions() as s:
        got = review_queue.assign_round_robin(s, list(dict.fromkeys(body.reviewers)))
        s.commit()
        return {"assigned": got}


@router.get("/v1/review-queue/turnaround", response_model=TurnaroundOut, tags=["qa workflow"])
def turnaround(svc: Svc, _who: Reader, date_from: Annotated[date, Query(alias="from")],
               date_to: Annotated[date, Query(alias="to", description="inclusive")]) -> dict:
    """The KPI QA leads track: hours from a call's analysis to its evaluation being submitted,
    per reason it was queued (median, 90th percentile, share on time), for items closed in the dates."""
    check_days(date_from, date_to)
    with svc.sessions() as s:
        return {"by_reason": review_queue.turnaround(s, day_bounds(date_from)[0], day_bounds(date_to)[1])}


# ---- calibration sessions -----------------------------------------------------------------------------

class CalibrationIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    call_ids: list[Annotated[str, Field(max_length=36)]] = Field(min_length=1, max_length=calibration_sessions.MAX_CALLS)
    reviewers: list[Annotated[str, Field(max_length=200)]] = Field(min_length=2, max_length=calibration_sessions.MAX_REVIEWERS,
                                                                   description="the reviewers' key names")
    form_id: int | None = Field(None, ge=1, le=2**31 - 1)


@router.post("/v1/calibrations", status_code=201, response_model=CalibrationOut, tags=["qa workflow"])
def new_calibration(body: CalibrationIn, svc: Svc, who: Lead) -> dict:
    """A calibration session: the reviewers evaluate the calls blind to each other."""
    with svc.sessions() as s:
        evaluations.ensure_starter_forms(s)
        try:
            cal = calibration_sessions.create(s, body.name, body.call_ids, body.reviewers, who.name, body.form_id)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        s.commit()
        return calibration_sessions.describe(s, cal, who.name, True)


@router.get("/v1/calibrations/{calibration_id}", response_model=CalibrationOut, tags=["qa workflow"])
def get_calibration(calibration_id: Id, svc: Svc, who: Reviewer) -> dict:
    """The session; its results once every reviewer has submitted every call (a lead sees them at once)."""
    with svc.sessions() as s:
        cal = s.get(CalibrationSession, calibration_id)
        if cal is None:
            raise HTTPException(404, f"no calibration session {calibration_id}")
        return calibration_sessions.describe(s, cal, who.name, who.allows("lead"))


@router.post("/v1/calibrations/{calibration_id}/calls/{call_id}/evaluation", response_model=EvaluationOut,
             tags=["qa workflow"])
def calibration_evaluation(calibration_id: Id, call_id: CallId, svc: Svc, who: Reviewer) -> dict:
    """The reviewer's evaluation of one call of the session (a draft without the automatic answers,
    so that they answer blind)."""
    with svc.sessions() as s:
        cal = s.get(CalibrationSession, calibration_id)
        if cal is None:
            raise HTTPException(404, f"no calibration session {calibration_id}")
        if who.name not in json.loads(cal.reviewers):
            raise HTTPException(403, f"{who.name} is not a reviewer of this session")
        if call_id not in json.loads(cal.call_ids):
            raise HTTPException(404, f"call {call_id} is not in this session")
        try:
            ev = evaluations.start(s, s.get(Call, call_id), who.name, who.key_id, form_id=cal.form_id,
                                   calibration_id=cal.id)
        except evaluations.EvaluationError as exc:
            raise _conflict(exc) from exc
        s.commit()
        return _shown(s, ev, who)

