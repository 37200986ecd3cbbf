"""A call's report, one page for QA files and coaching sessions: the call, its level and reasons,
its evaluation (answers, comments, coaching, history) and the key utterances: those the level,
the automatic answers and the reviewers' comments point at. Data only; the QA app renders it as a
printable page and as PDF (:mod:`callscope.api.web.report`)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.qa import comments, evaluations
from callscope.store.db import Call, Evaluation

MAX_KEY_UTTERANCES = 12


def report_data(session: Session, call: Call) -> dict:
    """Everything the report shows (EvaluationError if the call is not analysed)."""
    view = evaluations.call_view(session, call)
    result = view.analysis
    cs = result.call_scores
    ev = session.execute(select(Evaluation).where(Evaluation.call_id == call.id, Evaluation.calibration_id.is_(None))
                         .order_by(Evaluation.id.desc())).scalars().first()
    evaluation = evaluations.describe(session, ev) if ev is not None else None
    notes = comments.of_call(session, call.id)
    wanted: dict[int, set[str]] = {}
    for i in (cs.escalation.evidence if cs else [])[:6]:
        wanted.setdefault(i, set()).add("level")
    for q in (evaluation or {}).get("questions", []):
        for i in ((q.get("auto") or {}).get("evidence") or [])[:2]:
            wanted.setdefault(i, set()).add(q["id"])
    for c in notes:
        if c["utterance"] is not None:
            wanted.setdefault(c["utterance"], set()).add("comment")
    roles = dict(cs.roles) if cs else {}
    key = []
    for i in sorted(wanted)[:MAX_KEY_UTTERANCES]:
        if 0 <= i < len(result.utterances):
            u = result.utterances[i]
            key.append({"index": i, "start": u.start, "speaker": u.speaker, "role": roles.get(u.speaker, "unknown"),
                        "text": u.text, "why": sorted(wanted[i]),
                        "unreliable": bool(u.reliability and not u.reliability.reliable),
                        "comments": [c for c in notes if c["utterance"] == i]})
    return {
        "call": {"id": call.id, "agent_id": call.agent_id, "team": call.team, "queue": call.queue, "product": call.product,
                 "recorded_at": (call.recorded_at or call.created_at).isoformat()[:16].replace("T", " "),
                 "duration_s": call.duration_s, "language": call.language, "direction": call.direction},
        "level": call.escalation, "confidence": cs.escalation.confidence if cs else None,
        "reasons": list(cs.reasons) if cs else [], "level_version": cs.escalation.version if cs else None,
        "transcript_reliability": json.loads(result.transcript_reliability.model_dump_json()) if result.transcript_reliability else None,
        "evaluation": evaluation, "key_utterances": key, "comments": notes,
    }
