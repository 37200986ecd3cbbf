"""The escalation level a user sees, decided in one place.

One function, :func:`decide_level`, reads the level from the customer's sentiment scores under a
set of bands (the defaults, or a rule set's for the call's queue or product) and, when a QA
reviewer set the level, puts the reviewer's level on top. Every reason is a structured
:class:`~callscope.scoring.results.Reason` (a catalogue code, its parameters, the utterances it
rests on, and the message rendered in the deployment's language by :func:`render`), tagged with
what it is about, so a level read again replaces exactly its own reasons: nothing is matched by
its words. :func:`relevel` is how a stored analysis gets a new level (other bands, corrected
utterances, swapped roles); the call's other reasons (interruptions, silence, role note,
language) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callscope.scoring.call_scores import UNRELIABLE_LEVEL_SHARE, WINDOW_WORDS
from callscope.scoring.level_confidence import level_confidence, load_map
from callscope.scoring.messages import number, say
from callscope.scoring.results import BandsOut, CallScores, Reason, Score, SpeakerScores

#: How a parameter is written in a message: a number format (with the language's decimal
#: separator), a percentage of a 0..1 share, whole seconds, or a catalogue word (level, basis, role).
_NUMBER_FORMATS = {"value": "+.2f", "start": "+.1f", "end": "+.1f", "confidence": ".2f"}
_WORDS = {"level": "level", "basis": "basis", "who": "role"}


@dataclass(frozen=True)
class EscalationBands:
    """Customer sentiment bands (-1..+1): green above ``green``, yellow down to ``yellow``,
    orange down to ``orange``, red below."""

    green: float = 0.3
    yellow: float = -0.2
    orange: float = -0.5

    @property
    def edges(self) -> tuple[float, float, float]:
        """The band edges (green, yellow, orange), -1..+1."""
        return self.green, self.yellow, self.orange

    def level(self, sentiment: float) -> str:
        if sentiment > self.green:
            return "green"
        if sentiment >= self.yellow:
            return "yellow"
        if sentiment >= self.orange:
            return "orange"
        return "red"

    def out(self) -> BandsOut:
        """These bands as the JSON result carries them."""
        return BandsOut(green=self.green, yellow=self.yellow, orange=self.orange)

    @classmethod
    def of(cls, bands: BandsOut | None) -> EscalationBands:
        """The bands a result was levelled with (the defaults for a result that does not say)."""
        return cls(bands.green, bands.yellow, bands.orange) if bands is not None else cls()


@dataclass(frozen=True)
class LevelOverride:
    """A QA reviewer's level for a call: the level, who set it (as reasons name them), why, and the
    correction's id (the level's version is ``qa-review/<id>``)."""

    level: Literal["green", "yellow", "orange", "red"]
    reviewer: str
    why: str
    correction_id: int


def render(code: str, params: dict, language: str) -> str:
    """The message of reason ``code`` with ``params`` in ``language`` (see :mod:`callscope.scoring.messages`)."""
    values = {}
    for key, value in params.items():
        if key in _WORDS and value in ("green", "yellow", "orange", "red", "mean", "end", "agent", "customer"):
            values[key] = say(f"{_WORDS[key]}.{value}", language)
        elif key in _NUMBER_FORMATS and isinstance(value, (int, float)):
            values[key] = number(float(value), language, _NUMBER_FORMATS[key])
        elif key == "share" and isinstance(value, float):
            values[key] = f"{100 * value:.0f}"
        elif key in ("seconds", "at") and isinstance(value, float):
            values[key] = f"{value:.0f}"
        else:
            values[key] = value
    return say(code, language, **values)


def reason(key: str, about: Literal["level", "call", "review"], language: str, evidence: list[int] | None = None,
           /, **params) -> Reason:
    """The reason of catalogue key ``key`` with its message rendered in ``language``."""
    return Reason(code=key, about=about, params=params, evidence=list(evidence or []),
                  message=render(key, params, language))


def level_basis(bands: EscalationBands, mean: float, end: float | None) -> tuple[str, float]:
    """Which of the customer's sentiment mean and end (last quarter) the level is read from, and
    its value: the end when it is in the green band (solved) or below the mean, else the mean."""
    if end is not None and (end > bands.green or end < mean):
        return "end", end
    return "mean", mean


def decide_level(customer: SpeakerScores | None, bands: EscalationBands, version: str, language: str = "en",
                 override: LevelOverride | None = None) -> tuple[Score, list[Reason]]:
    """The call's level and the reasons about it (in ``language``).

    A customer who ends the call satisfied (end sentiment in the green band) makes it green: the
    problem was solved, whatever the start was. Otherwise the lower of the mean and the end
    decides, so a call that was bad throughout, or turned bad, is not rescued by a polite
    goodbye. The lowest utterance is named in the reasons when it reached orange or red. The
    level's confidence is P(the level is right) given how far the value it is read from lies
    from the nearest band edge (:mod:`callscope.scoring.level_confidence`), times the share of
    its evidence's words that the decoder was sure of; a level read from fewer than
    :data:`WINDOW_WORDS` words, or from words mostly in unreliable utterances
    (:data:`UNRELIABLE_LEVEL_SHARE`), says so.

    With ``override`` (a QA reviewer's level) the reviewer's level is the level, confidence 1.0,
    its first reason says who set it and why, and the rules' own reasons follow.
    """
    score, reasons = _rules_level(customer, bands, version, language)
    if override is None:
        return score, reasons
    set_by = Score(value=override.level, confidence=1.0, evidence=score.evidence,
                   version=f"qa-review/{override.correction_id}",
                   detail=f"set by {override.reviewer}: {override.why} (the rules gave {score.value})")
    return set_by, [reason("reason.qa_level", "review", language, score.evidence, level=override.level,
                           reviewer=override.reviewer, why=override.why), *reasons]


def _rules_level(customer: SpeakerScores | None, bands: EscalationBands, version: str,
                 language: str) -> tuple[Score, list[Reason]]:
    if customer is None or customer.sentiment_mean.value is None:
        return (Score(value=None, confidence=0.0, version=version, detail="no customer speech"),
                [reason("reason.no_customer", "level", language)])
    mean = float(customer.sentiment_mean.value)
    end = customer.sentiment_end.value
    basis, value = level_basis(bands, mean, None if end is None else float(end))
    read = customer.sentiment_end if basis == "end" else customer.sentiment_mean
    level = bands.level(value)
    reasons = [reason("reason.band", "level", language, read.evidence, basis=basis, value=value, level=level)]
    low = customer.sentiment_min
    if low.value is not None and float(low.value) < bands.yellow and bands.level(float(low.value)) != level:
        reasons.append(reason("reason.lowest", "level", language, low.evidence[:1], value=float(low.value),
                              level=bands.level(float(low.value)), utterance=low.evidence[0]))
    start = customer.sentiment_start.value
    if end is not None and start is not None and customer.sentiment_trend.value is not None:
        change = float(end) - float(start)
        if abs(change) >= 0.2:
            reasons.append(reason("reason.fell" if change < 0 else "reason.rose", "level", language,
                                  customer.sentiment_start.evidence + customer.sentiment_end.evidence,
                                  start=float(start), end=float(end)))
    if read.evidence_words is not None and read.evidence_words < WINDOW_WORDS:
        reasons.append(reason("reason.thin_evidence", "level", language, read.evidence, basis=basis,
                              words=read.evidence_words, needed=WINDOW_WORDS))
    if read.unreliable_share is not None and read.unreliable_share >= UNRELIABLE_LEVEL_SHARE:
        reasons.append(reason("reason.unreliable_transcript", "level", language, read.evidence,
                              share=float(read.unreliable_share)))
    confidence = level_confidence(value, bands.edges, read.unreliable_share)
    return Score(value=level, confidence=confidence, evidence=read.evidence, version=version,
                 detail=f"{basis} sentiment {value:+.3f}; bands green > {bands.green}, yellow ≥ {bands.yellow}, orange ≥ {bands.orange}, else red",
                 evidence_words=read.evidence_words, unreliable_share=read.unreliable_share), reasons


def with_reasons(call: CallScores, reasons: list[Reason], **update) -> CallScores:
    """``call`` with ``reasons`` (structured and as messages) and ``update`` applied."""
    return call.model_copy(update={"reason_details": reasons, "reasons": [r.message for r in reasons], **update})


def details_of(call: CallScores, customer: SpeakerScores | None) -> list[Reason]:
    """The call's structured reasons. A result stored before reasons were structured has messages
    only: the level's own are recognised as those :func:`decide_level` gives ``customer`` under
    the bands the result names (the defaults), the others become ``call`` reasons coded ``legacy``."""
    if call.reason_details or not call.reasons:
        return list(call.reason_details)
    _, own = _rules_level(customer, EscalationBands.of(call.bands), call.escalation.version, call.reasons_language)
    n = len(own) if [r.message for r in own] == call.reasons[:len(own)] else 0
    return own[:n] + [Reason(code="legacy", about="call", message=m) for m in call.reasons[n:]]


def relevel(call: CallScores, before: SpeakerScores | None, after: SpeakerScores | None, bands: EscalationBands,
            version: str, override: LevelOverride | None = None) -> CallScores:
    """``call`` with its level decided again for the customer ``after`` under ``bands`` (and a QA
    reviewer's ``override``): the level's own reasons and any earlier reviewer's level reason
    replaced by the new ones, the call's other reasons (interruptions, role note, silence,
    language, a role swap) kept after them. ``before``: the customer the call was levelled for
    (read only for a result stored before reasons were structured)."""
    rest = [r for r in details_of(call, before) if r.about != "level" and r.code != "reason.qa_level"]
    level, own = decide_level(after, bands, version, call.reasons_language, override)
    return with_reasons(call, own + rest, escalation=level, bands=bands.out(),
                        versions={**call.versions, "level_confidence": load_map().version})
