"""The per-call columns that listing, filters, feeds and aggregates read, taken from an analysis
(as analysed, or as corrected by QA)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import CALL_FIELDS, seal_value
from callscope.store.db import Call, CallEmotion

#: The statuses of a call whose analysis ended with a result.
FINISHED = ("done", "unsupported_language")


def final_status(result: CallAnalysis) -> str:
    """The call's status once its analysis ends: ``done``, or ``unsupported_language`` for a call
    heard outside the deployment's languages and stopped after language ID."""
    return "unsupported_language" if result.status == "unsupported_language" else "done"


def score_columns(result: CallAnalysis) -> dict:
    """Values for the score columns of :class:`Call`."""
    customer = next((s for s in result.speaker_scores if s.role == "customer"), None)
    agent = next((s for s in result.speaker_scores if s.role == "agent"), None)
    c = result.call_scores
    return {
        "duration_s": result.duration_s,
        "escalation": c.escalation.value if c else None,
        "escalation_confidence": c.escalation.confidence if c else None,
        "customer_sentiment": customer.sentiment_mean.value if customer else None,
        "customer_sentiment_start": customer.sentiment_start.value if customer else None,
        "customer_sentiment_end": customer.sentiment_end.value if customer else None,
        "agent_sentiment": agent.sentiment_mean.value if agent else None,
        "agent_talk_share": agent.talk_share if agent else None,
        "silence_share": c.silence_share if c else None,
        "overlap_s": c.overlap_s if c else None,
        "interruptions": len(c.interruptions) if c else None,
        "role_confidence": c.role_confidence if c else None,
        "role_note": c.role_note if c else None,
        "direction": c.direction if c else None,
        "language": result.language,
        "language_confidence": result.language_confidence,
        "transcript_reliability": result.transcript_reliability.score if result.transcript_reliability else None,
        "transcript_text": " ".join(u.text for u in result.utterances).lower(),
    }


def emotion_rows(call_id: str, result: CallAnalysis) -> list[dict]:
    """Rows of :class:`CallEmotion`: each role's share of utterance time per label (labels with a
    share above 0; a call with two speakers of one role keeps the larger share)."""
    rows: dict[tuple[str, str], float] = {}
    for s in result.speaker_scores:
        if s.role not in ("customer", "agent"):
            continue
        for label, share in s.emotion_shares.items():
            if share > 0:
                rows[(s.role, label)] = max(share, rows.get((s.role, label), 0.0))
    return [{"call_id": call_id, "role": r, "label": lab, "share": v} for (r, lab), v in rows.items()]


def write_scores(session: Session, call_id: str, result: CallAnalysis, under=None, runner=None, insights_ready=None,
                 **extra):
    """Set the call's score columns (and ``extra`` columns), its emotion rows and its categories
    under the rule-set version ``under`` (default: the active one, :mod:`callscope.qa.categories`)
    from ``result`` (evaluated in ``runner``, a :class:`~callscope.qa.rule_runner.RuleRunner`, when
    given). Returns the call row, the categories matched and the version (None, [], None if the
    call is gone)."""
    from callscope.qa import categories

    values = {**score_columns(result), **extra}
    for field in CALL_FIELDS:  # the words and the result are sealed under the call's key
        if values.get(field) is not None:
            values[field] = seal_value(session, call_id, field, values[field])
    session.execute(update(Call).where(Call.id == call_id).values(**values))
    session.execute(delete(CallEmotion).where(CallEmotion.call_id == call_id))
    rows = emotion_rows(call_id, result)
    if rows:
        session.execute(insert(CallEmotion), rows)
    call = session.execute(select(Call).where(Call.id == call_id)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if call is None:
        return None, [], None
    version = under or categories.active(session)
    return call, categories.categorise(session, call, result, version, runner=runner, insights_ready=insights_ready), version
