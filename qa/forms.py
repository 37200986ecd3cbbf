"""Evaluation forms: a versioned QA scorecard written in YAML, and the answers the analysis can
give to it by itself.

A form has sections of questions. A question is answered ``yes``/``no`` (``na`` where the
question allows it), on a 1-5 ``scale``, or by one of its ``choices`` (each worth 0..1 points);
it has a ``weight`` and may be ``critical`` (a critical question answered ``no``, or scoring 0,
fails the whole form: its score is 0). The form score is ``100 × Σ weight × points / Σ weight``
over the questions answered other than ``na``.

A question may carry an ``auto`` answer read from the stored analysis, exactly one of:

* ``category: <name>``: whether the call matched a category of its rule set (with the
  category's evidence); ``if_matched`` / ``otherwise`` say what each means;
* ``said``: a role-scoped phrase (the rule sets' ``said`` condition: ``by``, ``phrases`` /
  ``regex``, ``within``); ``if_found`` / ``otherwise``;
* ``score``: a measure against a range (``measure``: ``customer_sentiment_end``,
  ``customer_sentiment_mean``, ``customer_sentiment_start``, ``silence_share``,
  ``interruptions_by_agent``, ``agent_talk_share``; ``lt``/``lte``/``gt``/``gte``);
  ``if_true`` / ``otherwise``.

Every automatic answer carries its evidence (utterance indices), a confidence (0..1) and the
form's version. **A question whose automatic answer has no evidence stays for the reviewer**: a
phrase that was not found, a category that did not match on words, is shown as a *suggestion*
(``suggested``), never filled in. The confidence of a phrase or category answer is the mean
transcript reliability of its evidence utterances (how far the words can be trusted), of a
sentiment answer the score's own calibrated confidence, of a role-scoped measure the role
confidence; the silence share is measured from the audio alone (1.0).

``applies_to`` limits a form to calls of some ``queue``, ``team``, ``product`` or ``language``
(every field given must match); the form chosen for a call is the active one naming the most
of its fields, then the newest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callscope.scoring.rules import safe_yaml
from callscope.scoring.rules.evaluate import Match, find_said
from callscope.scoring.rules.model import Range, Said

STARTER_FORMS = ("customer-service.en.yaml", "customer-service.sv.yaml")
QuestionId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Measure = Literal["customer_sentiment_end", "customer_sentiment_mean", "customer_sentiment_start", "silence_share",
                  "interruptions_by_agent", "agent_talk_share"]


class FormError(ValueError):
    """A form that does not parse or validate; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Choice(_Strict):
    value: Annotated[str, Field(min_length=1, max_length=80)]
    points: float = Field(ge=0.0, le=1.0, description="0..1 of the question's weight")


class ScoreAuto(Range):
    measure: Measure


class Auto(_Strict):
    """How the analysis answers a question by itself (exactly one of category, said, score)."""

    category: str | None = None
    said: Said | None = None
    score: ScoreAuto | None = None
    if_matched: str | None = Field(None, description="category: the answer when it matched")
    if_found: str | None = Field(None, description="said: the answer when a phrase was found")
    if_true: str | None = Field(None, description="score: the answer when the measure is in the range")
    otherwise: str | None = Field(None, description="the answer when not (a suggestion when there is no evidence)")

    @model_validator(mode="after")
    def _one(self) -> "Auto":
        given = [k for k in ("category", "said", "score") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"auto has exactly one of category, said, score; got {given or 'none'}")
        then = {"category": self.if_matched, "said": self.if_found, "score": self.if_true}[given[0]]
        if then is None:
            raise ValueError(f"auto with {given[0]} needs {dict(category='if_matched', said='if_found', score='if_true')[given[0]]}")
        return self

    @property
    def kind(self) -> str:
        return "category" if self.category is not None else "said" if self.said is not None else "score"

    @property
    def when_true(self) -> str:
        return self.if_matched or self.if_found or self.if_true or ""


class Question(_Strict):
    id: QuestionId
    text: Annotated[str, Field(min_length=1, max_length=500)]
    help: str = Field("", max_length=2000)
    type: Literal["yes_no", "scale", "choice"] = "yes_no"
    na: bool = Field(False, description="N/A may be answered")
    choices: list[Choice] = Field(default_factory=list, max_length=20)
    weight: float = Field(1.0, ge=0.0, le=100.0)
    critical: bool = Field(False, description="answered no (or 0 points), the whole form fails")
    auto: Auto | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Question":
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError("a choice question needs at least two choices")
        if self.type != "choice" and self.choices:
            raise ValueError("choices belong to a choice question")
        if self.auto is not None:
            for answer in (self.auto.when_true, self.auto.otherwise):
                if answer is not None and answer not in self.answers:
                    raise ValueError(f"auto answer {answer!r} is not one of {', '.join(self.answers)}")
        return self

    @property
    def answers(self) -> list[str]:
        """The values this question accepts."""
        base = {"yes_no": ["yes", "no"], "scale": ["1", "2", "3", "4", "5"],
                "choice": [c.value for c in self.choices]}[self.type]
        return base + (["na"] if self.na else [])

    def points(self, answer: str) -> float | None:
        """0..1 for an answer; None for ``na``. ValueError for an answer it does not accept."""
        if answer not in self.answers:
            raise ValueError(f"question {self.id}: {answer!r} is not one of {', '.join(self.answers)}")
        if answer == "na":
            return None
        if self.type == "yes_no":
            return 1.0 if answer == "yes" else 0.0
        if self.type == "scale":
            return (int(answer) - 1) / 4
        return next(c.points for c in self.choices if c.value == answer)


class Section(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    questions: list[Question] = Field(min_length=1, max_length=100)


class AppliesTo(_Strict):
    queue: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    product: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)

    def fits(self, call: dict[str, str | None]) -> int | None:
        """How many fields of the call it names (0: a form for every call), or None if one differs."""
        named = 0
        for field in ("queue", "team", "product", "language"):
            allowed = getattr(self, field)
            if allowed:
                if call.get(field) not in allowed:
                    return None
                named += 1
        return named


class Form(_Strict):
    form: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$", description="the form's name")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    language: str = Field("en", pattern=r"^[a-z]{2}$", description="the language its questions are written in")
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    sections: list[Section] = Field(min_length=1, max_length=50)

    @field_validator("sections")
    @classmethod
    def _unique(cls, v: list[Section]) -> list[Section]:
        ids = [q.id for s in v for q in s.questions]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"question ids repeat: {', '.join(dup)}")
        return v

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    @property
    def questions_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


def load_form(text: str) -> Form:
    """The form written in ``text`` (YAML: no aliases, bounded depth); FormError naming the place."""
    try:
        data = safe_yaml.load(text)
    except safe_yaml.UnsafeYaml as exc:
        raise FormError(f"refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise FormError(f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FormError("a form is a mapping with 'form', 'title' and 'sections'")
    try:
        return Form.model_validate(data)
    except ValidationError as exc:
        raise FormError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])) from exc


def starter_texts() -> list[str]:
    """The starter forms' YAML (customer service, English and Swedish)."""
    here = resources.files(__package__).joinpath("starter_forms")
    return [here.joinpath(name).read_text(encoding="utf-8") for name in STARTER_FORMS]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---- automatic answers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AutoAnswer:
    """What the analysis answers to one question: ``answer`` (None: for the reviewer),
    ``suggested`` (what it would answer, shown beside an unanswered question), ``evidence``
    utterance indices, ``confidence`` 0..1, ``detail`` in words."""

    answer: str | None
    suggested: str | None
    evidence: tuple[int, ...]
    confidence: float | None
    detail: str

    def as_dict(self) -> dict:
        return {"answer": self.answer, "suggested": self.suggested, "evidence": list(self.evidence),
                "confidence": None if self.confidence is None else round(self.confidence, 3), "detail": self.detail}


def _reliability(call, evidence) -> float:
    """Mean transcript reliability of the evidence utterances (1.0 where a result has none)."""
    scores = [(call.utterances[i].reliability.score if call.utterances[i].reliability else 1.0)
              for i in evidence if 0 <= i < len(call.utterances)]
    return sum(scores) / len(scores) if scores else 0.0


def _customer(call):
    return next((s for s in call.speaker_scores if s.role == "customer"), None)


def _measure(call, measure: str) -> tuple[float | None, tuple[int, ...], float | None, str]:
    """(value, evidence, confidence, words) of a measure of the call."""
    cs = call.call_scores
    if measure.startswith("customer_sentiment_"):
        who = _customer(call)
        if who is None:
            return None, (), None, "no customer speech"
        score = getattr(who, f"sentiment_{measure.rsplit('_', 1)[1]}")
        value = score.value if isinstance(score.value, (int, float)) else None
        return value, tuple(score.evidence), score.confidence, f"customer sentiment {measure.rsplit('_', 1)[1]} " + (
            "none" if value is None else f"{value:+.2f}")
    if cs is None:
        return None, (), None, "not scored"
    if measure == "silence_share":
        return cs.silence_share, (), 1.0, f"silence {cs.silence_share:.0%} of the call"
    if measure == "interruptions_by_agent":
        agents = {s.speaker for s in call.speaker_scores if s.role == "agent"}
        cuts = [it for it in cs.interruptions if it.by in agents]
        evidence = tuple(sorted({i for it in cuts for i in it.evidence}))
        return float(len(cuts)), evidence, cs.role_confidence, f"the agent cut in {len(cuts)} times"
    share = sum(s.talk_share for s in call.speaker_scores if s.role == "agent")
    agents_known = any(s.role == "agent" for s in call.speaker_scores)
    return (share if agents_known else None), (), cs.role_confidence, (
        f"agent talk share {share:.0%}" if agents_known else "no agent identified")


def auto_answer(question: Question, call, matches: dict[str, Match]) -> AutoAnswer | None:
    """The automatic answer to ``question`` from ``call`` (a CallAnalysis, corrections applied)
    and its categories ``matches`` (name → Match under the call's rule set); None without ``auto``."""
    auto = question.auto
    if auto is None:
        return None
    if auto.kind == "score":
        assert auto.score is not None
        value, evidence, confidence, detail = _measure(call, auto.score.measure)
        if value is None:
            return AutoAnswer(None, None, (), None, detail)
        answer = auto.when_true if auto.score.holds(value) else auto.otherwise
        return AutoAnswer(answer, answer, evidence, confidence, detail)
    if auto.kind == "category":
        match = matches.get(auto.category or "")
        if match is not None and match.evidence:
            return AutoAnswer(auto.when_true, auto.when_true, match.evidence, _reliability(call, match.evidence),
                              f"category {auto.category} matched: {match.detail}")
        if match is not None:  # matched on something other than words (an absence, a silence)
            return AutoAnswer(None, auto.when_true, (), None,
                              f"category {auto.category} matched ({match.detail}) without utterances to show")
        return AutoAnswer(None, auto.otherwise, (), None, f"category {auto.category} did not match")
    assert auto.said is not None
    found, hits, details = find_said(call, auto.said)
    if found:
        return AutoAnswer(auto.when_true, auto.when_true, tuple(hits), _reliability(call, hits), "; ".join(details))
    return AutoAnswer(None, auto.otherwise, (), None, "not found in the transcript")


def prefill(form: Form, call, matches: dict[str, Match]) -> dict[str, dict]:
    """Per question id: ``{"auto": AutoAnswer dict | None, "answer": the automatic answer or None,
    "source": "auto" | None}``."""
    out = {}
    for q in form.questions:
        a = auto_answer(q, call, matches)
        out[q.id] = {"auto": a.as_dict() if a else None, "answer": a.answer if a else None,
                     "source": "auto" if a and a.answer is not None else None}
    return out


def score(form: Form, answers: dict[str, str | None]) -> tuple[float | None, bool]:
    """(score 0..100 or None if nothing scorable is answered, whether a critical question failed)."""
    total = got = 0.0
    failed = False
    for q in form.questions:
        answer = answers.get(q.id)
        if answer is None:
            continue
        p = q.points(answer)
        if p is None:
            continue
        total += q.weight
        got += q.weight * p
        if q.critical and p == 0.0:
            failed = True
    if failed:
        return 0.0, True
    return (round(100 * got / total, 2) if total else None), False
