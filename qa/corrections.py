"""QA corrections: a reviewer overrides an utterance's sentiment or emotion, the call's
escalation level, or swaps the agent and customer roles (a mono call's speakers or a dual-channel
call's channel map read the wrong way round). The stored analysis is never edited: :func:`apply_corrections` lays the newest
correction per (utterance, field) over it and re-scores the call, and the originals stay both in
the analysis and in each correction row (who, when, why, before, after)."""

from __future__ import annotations

import json
from typing import Annotated, Literal, get_args

from pydantic import AliasChoices, BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import readable_correction
from callscope.scoring.emotion import LABELS, EmotionThresholds, classify
from callscope.scoring.escalation import EscalationBands, LevelOverride, details_of, reason, relevel
from callscope.scoring.rescore import rescore
from callscope.scoring.results import EmotionOut, SentimentOut, UtteranceScores
from callscope.store.db import Correction

#: Version suffix of scores re-computed from corrected values.
QA_VERSION = "+qa-corrected"
LEVELS = ("green", "yellow", "orange", "red")
Label = Literal["frustrated", "dissatisfied", "uncertain", "neutral", "satisfied", "enthusiastic", "empathetic"]
assert set(get_args(Label)) == set(LABELS)


class CorrectionIn(BaseModel):
    """One reviewer's correction. With ``utterance``: its ``sentiment`` and/or ``emotion``.
    Without: the call's ``escalation`` level, or ``swap_roles`` (agent and customer change
    places)."""

    utterance: int | None = Field(None, ge=0, description="index into the call's utterances; omit for the call")
    sentiment: float | None = Field(None, ge=-1.0, le=1.0, description="-1 very negative .. +1 very positive")
    emotion: Label | None = None
    escalation: Literal["green", "yellow", "orange", "red"] | None = None
    swap_roles: bool | None = Field(None, description="true: the speakers the analysis took for agent and customer "
                                                      "are the other way round; scores are computed again")
    roles: dict[Annotated[str, Field(max_length=40)], Literal["agent", "customer", "unknown"]] | None = Field(
        None, max_length=16, description="speaker id → role, for speakers the analysis could not place (a one-speaker "
                                         "call with role 'unknown'), or to say who is who outright; scores are computed again")
    reason: str = Field(min_length=3, max_length=2000, description="why; kept for audit")
    display_name: str | None = Field(None, min_length=1, max_length=200, validation_alias=AliasChoices("display_name", "reviewer"),
                                     description="a person's name to show beside the API key's name (the key is "
                                                 "always the reviewer on record); 'reviewer' is accepted as an alias")

    @model_validator(mode="after")
    def _one_target(self) -> "CorrectionIn":
        if self.swap_roles is False:
            self.swap_roles = None
        if self.utterance is not None:
            if self.sentiment is None and self.emotion is None:
                raise ValueError("an utterance correction sets 'sentiment' and/or 'emotion'")
            if self.escalation is not None or self.swap_roles or self.roles:
                raise ValueError("'escalation', 'swap_roles' and 'roles' are call-level corrections: leave out 'utterance'")
        elif self.escalation is None and not self.swap_roles and not self.roles:
            raise ValueError("set 'escalation', 'swap_roles' or 'roles' for the call, or 'utterance' with 'sentiment'/'emotion'")
        if self.swap_roles and self.roles:
            raise ValueError("either 'swap_roles' or 'roles', not both")
        return self

    def fields(self) -> dict[str, object]:
        """The corrected fields and their new values (``roles``: True for a swap, made into the
        new speaker → role map by :func:`swapped_roles`; or the reviewer's map)."""
        if self.utterance is not None:
            return {n: getattr(self, n) for n in ("sentiment", "emotion") if getattr(self, n) is not None}
        out: dict[str, object] = {"roles": True} if self.swap_roles else {"roles": dict(self.roles)} if self.roles else {}
        if self.escalation is not None:
            out["escalation"] = self.escalation
        return out


def swapped_roles(result: CallAnalysis) -> dict[str, str]:
    """The call's speaker → role map with agent and customer exchanged (ValueError if the call has
    neither)."""
    roles = dict(result.call_scores.roles) if result.call_scores else {}
    if not any(r in ("agent", "customer") for r in roles.values()):
        raise ValueError("the call has no speaker taken for agent or customer: there are no roles to swap")
    flip = {"agent": "customer", "customer": "agent"}
    return {spk: flip.get(role, role) for spk, role in roles.items()}


def current_value(result: CallAnalysis, utterance: int | None, field: str) -> object:
    """The value a correction replaces, as the analysis has it."""
    if utterance is None:
        if field == "roles":
            return dict(result.call_scores.roles) if result.call_scores else {}
        return result.call_scores.escalation.value if result.call_scores else None
    u = result.utterances[utterance]
    if field == "sentiment":
        return u.sentiment.score if u.sentiment else None
    return u.emotion.label if u.emotion else None


def corrections_of(session: Session, call_id: str) -> list[Correction]:
    """The call's corrections, oldest first, their text opened (out of the session: read-only)."""
    rows = session.execute(select(Correction).where(Correction.call_id == call_id).order_by(Correction.id)).scalars().all()
    return [readable_correction(session, c) for c in rows]


def record(c: Correction) -> dict:
    """A correction row as the API shows it."""
    return {"id": c.id, "utterance": c.utterance, "field": c.field, "original": json.loads(c.original),
            "value": json.loads(c.value), "reviewer": c.reviewer, "api_key_id": c.api_key_id,
            "display_name": c.display_name, "reason": c.reason,
            "at": c.created_at.isoformat() if c.created_at else None}


def reviewer_label(c: Correction) -> str:
    """How a correction's author reads in reasons: the display name with the key's name, or the key's name."""
    return f"{c.display_name} (key {c.reviewer})" if c.display_name else c.reviewer


def _latest(corrections: list[Correction]) -> dict[tuple[int | None, str], Correction]:
    latest: dict[tuple[int | None, str], Correction] = {}
    for c in sorted(corrections, key=lambda c: c.id):
        latest[(c.utterance, c.field)] = c
    return latest


def apply_corrections(result: CallAnalysis, corrections: list[Correction],
                      bands: EscalationBands | None = None) -> CallAnalysis:
    """The analysis as corrected: utterance values replaced (reviewer's confidence 1.0), speaker
    and call scores and timeline valence re-computed (the level with ``bands``, the defaults if
    None), a call-level level set last."""
    if not corrections:
        return result
    out = result.model_copy(deep=True)
    latest = _latest(corrections)
    roles = latest.get((None, "roles"))
    touched = roles is not None
    if roles is not None:
        _set_roles(out, json.loads(roles.value), roles)
    for (i, field), c in latest.items():
        if i is None or i >= len(out.utterances) or out.utterances[i].sentiment is None:
            continue
        u, value = out.utterances[i], json.loads(c.value)
        assert u.emotion is not None  # a scored utterance has its sentiment and its emotion
        touched = True
        if field == "sentiment":
            u.sentiment = SentimentOut(score=value, confidence=1.0)
            if (i, "emotion") not in latest:  # the label follows the corrected sentiment by the usual rules
                e = classify(value, 1.0, u.emotion.arousal, u.text, (u.features.pause_max_s if u.features else None) or 0.0,
                             EmotionThresholds())
                u.emotion = EmotionOut(label=e.label, confidence=e.confidence, valence=value,
                                       arousal=u.emotion.arousal, acoustic=u.emotion.acoustic)
            else:
                u.emotion = u.emotion.model_copy(update={"valence": value})
        elif field == "emotion":
            u.emotion = u.emotion.model_copy(update={"label": value, "confidence": 1.0})
    if touched and out.call_scores is not None:
        scores = [UtteranceScores(sentiment=u.sentiment, emotion=u.emotion, features=u.features) for u in out.utterances]
        out.speaker_scores, out.call_scores, out.timeline = rescore(
            out.utterances,  # type: ignore[arg-type]  # UtteranceOut holds what rescore reads
            scores, out.speaker_scores, out.call_scores, out.timeline, out.duration_s, QA_VERSION, bands=bands)
    level = latest.get((None, "escalation"))
    if level is not None and out.call_scores is not None:  # the reviewer's level goes on top, last
        cs = out.call_scores
        customer = next((sp for sp in out.speaker_scores if sp.role == "customer"), None)
        out.call_scores = relevel(cs, customer, customer, EscalationBands.of(cs.bands), cs.escalation.version,
                                  LevelOverride(json.loads(level.value), reviewer_label(level), level.reason, level.id))
    return out


def _set_roles(out: CallAnalysis, roles: dict[str, str], c: Correction) -> None:
    """Give the speakers the reviewer's roles. The acoustic-emotion policy follows the new roles:
    a speaker who is now an agent loses voice arousal unless the deployment allowed it for agents;
    a new customer whose voice was not analysed as a customer's has no arousal until re-analysed."""
    cs = out.call_scores
    if cs is None:
        return
    allowed = cs.emotion_policy
    before = next((sp for sp in out.speaker_scores if sp.role == "customer"), None)
    # the level's own reasons are written again by re-scoring; a role note's reason goes with the
    # note: the reviewer settled what it asked to check
    details = [r for r in details_of(cs, before)
               if not r.code.startswith("role_note.") and not (r.code == "legacy" and r.message == cs.role_note)]
    details.append(reason("reason.qa_roles", "review", cs.reasons_language, reviewer=reviewer_label(c), why=c.reason))
    cs.reason_details, cs.reasons = details, [r.message for r in details]
    cs.roles = {**cs.roles, **roles}
    cs.role_source = "qa_review"
    cs.role_note = None  # a reviewer settled what the note asked to check
    cs.role_confidence = 1.0
    no_voice = set()
    for sp in out.speakers:
        sp.role = cs.roles.get(sp.id, sp.role)
    for ss in out.speaker_scores:
        ss.role = cs.roles.get(ss.speaker, ss.role)
        if ss.acoustic_emotion and ss.role == "agent" and not allowed.get("agent", allowed.get("agents", False)):
            ss.acoustic_emotion, ss.loudness_dbfs, ss.arousal_baseline = False, None, None
            no_voice.add(ss.speaker)
    for u in out.utterances:
        if u.speaker in no_voice and u.emotion is not None:
            u.emotion = u.emotion.model_copy(update={"arousal": None, "acoustic": False})
    for tl in out.timeline:
        tl.role = cs.roles.get(tl.speaker, tl.role)
        if tl.speaker in no_voice:
            tl.arousal = [None] * len(tl.arousal)
            tl.points = [p.model_copy(update={"arousal": None}) for p in tl.points]


def annotate(body: dict, corrections: list[Correction]) -> dict:
    """Mark corrected utterances in a transcript body: ``corrected`` lists each corrected field
    with its original value, the reviewer, the time and the reason."""
    for (i, field), c in _latest(corrections).items():
        if i is not None and i < len(body["utterances"]):
            body["utterances"][i].setdefault("corrected", {})[field] = record(c)
    return body
