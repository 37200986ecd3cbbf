"""Response models of the QA workflow's routes: forms, evaluations, comments, the review queue and
calibration sessions (:mod:`callscope.api.routes.evaluations`). Times are ISO 8601 strings in UTC."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

State = Literal["draft", "submitted", "acknowledged", "disputed", "resolved"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FormOut(_Out):
    id: int = Field(description="the form version's id (use it to activate or to evaluate under it)")
    name: str
    version: int
    label: str = Field(description="form/<name>/<version>+<digest>, as evaluations name it")
    title: str
    language: str = Field(description="the language its questions are written in")
    active: bool
    applies_to: dict[str, list[str]] = Field(description="queue, team, product, language: empty lists match every call")
    created_by: str
    created_at: str | None
    sections: list[dict[str, Any]] = Field(description="titles and questions, as written, with the answers each accepts")
    yaml: str | None = None


class FormListOut(_Out):
    forms: list[FormOut]


class AutoAnswerOut(_Out):
    answer: str | None = Field(description="the automatic answer; null: no evidence, the question is the reviewer's")
    suggested: str | None = Field(description="what the analysis would answer, shown beside an unanswered question")
    evidence: list[int] = Field(description="utterance indices the answer rests on")
    confidence: float | None = Field(description="0..1: the evidence's transcript reliability, a score's own confidence, or the role confidence")
    detail: str


class QuestionOut(_Out):
    id: str
    section: str
    text: str
    help: str | None
    type: Literal["yes_no", "scale", "choice"]
    answers: list[str] = Field(description="the values it accepts")
    weight: float
    critical: bool = Field(description="answered no (0 points), the form scores 0")
    answer: str | None
    source: Literal["auto", "confirmed", "reviewer"] | None = Field(
        description="auto: pre-filled, not yet looked at; confirmed: a person kept it; reviewer: a person gave it")
    disagrees: bool = Field(description="a person changed the automatic answer")
    auto: AutoAnswerOut | None = Field(description="null for a question without automatic answer, or hidden (calibration)")
    reason: str | None = Field(description="why the automatic answer was changed")
    comment: str | None
    by: str | None = Field(description="who gave or confirmed the answer")


class EventOut(_Out):
    state: State
    by: str
    at: str
    note: str | None


class EvaluationOut(_Out):
    id: int
    call_id: str
    form: str = Field(description="the form version's label")
    form_id: int
    form_title: str
    reviewer: str
    state: State
    calibration_id: int | None
    score: float | None = Field(description="0..100 over the answered questions; 0 when a critical one failed")
    failed_critical: bool
    disagreements: int = Field(description="automatic answers a person changed")
    coaching: str | None = Field(description="the coaching note to the agent")
    questions: list[QuestionOut]
    created_at: str
    submitted_at: str | None
    history: list[EventOut] = Field(description="each change of state: who and when")


class EvaluationRowOut(_Out):
    id: int
    call_id: str
    form: str
    reviewer: str
    state: State
    score: float | None
    failed_critical: bool
    disagreements: int
    agent_id: str | None
    team: str | None
    queue: str | None
    submitted_at: str | None
    url: str


class EvaluationListOut(_Out):
    evaluations: list[EvaluationRowOut]


class AgentEvaluationOut(_Out):
    """What an agent sees of one of their evaluated calls: no transcript, no customer data."""

    evaluation_id: int
    call_id: str
    recorded_at: str | None
    duration_s: float | None
    form: str
    state: State
    score: float | None
    failed_critical: bool
    coaching: str | None
    questions: list[dict[str, Any]] = Field(description="text, answer and comment per question")
    history: list[EventOut]


class AgentEvaluationsOut(_Out):
    agent_id: str
    evaluations: list[AgentEvaluationOut]


class CommentOut(_Out):
    id: int
    call_id: str
    utterance: int | None
    at_s: float = Field(description="seconds from the start of the call")
    author: str
    text: str
    created_at: str


class CommentListOut(_Out):
    comments: list[CommentOut]


class QueueItemOut(_Out):
    call_id: str
    url: str = Field(description="the call's review page")
    reason: Literal["red", "orange", "sample"]
    level: str | None
    agent_id: str | None
    team: str | None
    queue: str | None
    duration_s: float | None
    customer_sentiment: float | None
    added_at: str
    due_at: str
    overdue: bool
    assignee: str | None


class QueueOut(_Out):
    items: list[QueueItemOut]
    counts: dict[str, dict[str, int]] = Field(description="per reason: open and overdue")
    next_cursor: str | None


class ClaimOut(_Out):
    call_id: str
    assignee: str
    assigned_at: str


class AssignOut(_Out):
    assigned: dict[str, int] = Field(description="items dealt to each reviewer")


class TurnaroundOut(_Out):
    """The time from a call's analysis to its evaluation, per reason it was queued."""

    by_reason: dict[str, dict[str, float | int | None]] = Field(
        description="evaluated, median_h, p90_h (hours), on_time_share (0..1)")


class CalibrationOut(_Out):
    id: int
    name: str
    form: str
    form_id: int
    calls: list[str]
    reviewers: list[str]
    created_by: str
    created_at: str
    submitted: list[dict[str, Any]] = Field(description="per reviewer and call: whether submitted")
    complete: bool
    results: dict[str, Any] | None = Field(description="answers side by side and agreement per question; "
                                                        "null until every reviewer has submitted (leads see it at once)")
    mine: list[dict[str, Any]] = Field(description="the viewer's own evaluations in this session")
