"""Each call's contact reason, outcome and summary, in the database, per rule-set version.

Computed where categories are (:func:`callscope.qa.categories.categorise`): when a worker
finishes an analysis, and when calls are re-scored under a rule-set version (no ASR). Each row
keeps a hash of what it was computed from (the analysis as corrected, the rule set's reasons and
threshold, the call's metadata, the method's version): re-scoring under a version whose reasons
did not change copies the row instead of running the sentence encoder again, so re-scoring for
new categories or bands costs what it did. A QA correction made through the API keeps the stored
insight until the next re-scoring (the API loads the sentence encoder only to embed a search
by meaning). Each computation also stores the utterances' vectors for search by meaning
(:mod:`callscope.qa.meaning_search`). The reason, outcome
and summary quote the transcript: the row's detail is sealed under the call's key, and erasure
deletes the rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict
from functools import lru_cache

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_value, seal_value
from callscope.scoring.insight.insight import CallInsight, InsightReader
from callscope.scoring.rules.model import RuleSet
from callscope.store.db import Call, RuleSetRow
from callscope.store.db import CallInsight as CallInsightRow


@lru_cache(maxsize=1)
def reader() -> InsightReader:
    """The process's reader (loads the sentence encoder on first use)."""
    return InsightReader()


def method_version() -> str:
    """The method's version without the rule set (``insight/…+cues-…+<encoder>``)."""
    from callscope.scoring.insight.cues import CUES_VERSION
    from callscope.scoring.insight.reasons import METHOD
    from callscope.scoring.text_encoder import ENCODER_NAME

    return f"insight/{METHOD}+{CUES_VERSION}+{ENCODER_NAME}"


def basis_of(result: CallAnalysis, rules: RuleSet, metadata: dict) -> str:
    """A hash of what an insight is computed from (hex, 64 characters)."""
    h = hashlib.sha256()
    for part in (method_version(), json.dumps([r.model_dump(mode="json") for r in rules.reasons], sort_keys=True),
                 str(rules.reason_min_similarity), json.dumps(metadata, sort_keys=True, default=str),
                 result.model_dump_json()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def precompute(sessions, call_id: str, result: CallAnalysis) -> dict[str, CallInsight]:
    """The insight a worker is about to store for a call it analysed, computed before the write
    transaction (the sentence encoder takes 0.2-1 s; on SQLite a transaction holding the write
    lock that long stalls every other writer and the job's own heartbeat), keyed by its basis.
    Empty when the call is gone or was not transcribed."""
    from callscope.qa import categories

    with sessions() as s:
        row = s.get(Call, call_id)
        if row is None:
            return {}
        under = categories.active(s)
        final = categories.scored(s, row, result, under)
        metadata = categories.metadata_of(row)
    if final.status != "analysed" or not final.utterances:
        return {}
    return {basis_of(final, under.rules, metadata): reader().read(final, under.rules, metadata)}


def refresh(session: Session, call: Call, result: CallAnalysis, rules: RuleSet, number: int, metadata: dict,
            current: bool, ready: dict[str, CallInsight] | None = None) -> None:
    """Store the call's insight under rule-set version ``number``: copied from a row of another
    version computed from the same basis, else computed. A call that was not transcribed has
    none. With ``current``, its reason and outcome become the call's. The caller commits."""
    session.execute(delete(CallInsightRow).where(CallInsightRow.call_id == call.id,
                                                 CallInsightRow.rules_version == number))
    row: dict | None = None
    if result.status == "analysed" and result.utterances:
        basis = basis_of(result, rules, metadata)
        same = session.execute(select(CallInsightRow).where(CallInsightRow.call_id == call.id,
                                                            CallInsightRow.basis == basis).limit(1)).scalar_one_or_none()
        if same is not None:
            row = {c: getattr(same, c) for c in ("reason", "reason_confidence", "outcome", "outcome_confidence",
                                                 "version", "detail_json", "problem_vector")}
        else:
            known = (ready or {}).get(basis)
            insight = known if known is not None else reader().read(result, rules, metadata)
            row = _row(session, call.id, insight)
            if current and insight.utterance_vectors is not None:
                from callscope.qa import meaning_search

                meaning_search.store(session, call.id, insight.utterance_vectors, [u.text for u in result.utterances],
                                     method_version())
        row.update(call_id=call.id, rules_version=number, basis=basis)
        session.execute(insert(CallInsightRow), [row])
    if current:
        session.execute(update(Call).where(Call.id == call.id).values(
            reason=row["reason"] if row else None, outcome=row["outcome"] if row else None))


def _row(session: Session, call_id: str, insight: CallInsight) -> dict:
    problem = insight.problem
    vector = (base64.b64encode(insight.problem_vector.astype(np.float16).tobytes()).decode()
              if insight.problem_vector is not None else None)
    detail = json.dumps({"problem": {"utterances": list(problem.utterances), "text": problem.text} if problem else None,
                         "reason": asdict(insight.reason) if insight.reason else None,
                         "outcome": asdict(insight.outcome), "summary": [asdict(line) for line in insight.summary]},
                        ensure_ascii=False)
    return {"reason": insight.reason.reason if insight.reason else None,
            "reason_confidence": insight.reason.confidence if insight.reason else None,
            "outcome": insight.outcome.outcome, "outcome_confidence": insight.outcome.confidence,
            "version": insight.version[:300], "detail_json": seal_value(session, call_id, "insight.detail", detail),
            "problem_vector": seal_value(session, call_id, "insight.vector", vector)}


def vector_of(session: Session, call_id: str, stored: str | None) -> np.ndarray | None:
    """A stored problem vector as float32 (None when there is none, or the call was erased)."""
    from callscope.privacy.call_keys import open_unless_erased

    plain = open_unless_erased(session, call_id, "insight.vector", stored) if stored else None
    return np.frombuffer(base64.b64decode(plain), dtype=np.float16).astype(np.float32) if plain else None


def insight_of(session: Session, call_id: str, number: int | None) -> dict | None:
    """The stored insight of a call under version ``number``: reason, outcome and summary with
    their evidence, and the version (method, cues, encoder, rule set); None when there is none."""
    if number is None:
        return None
    row = session.get(CallInsightRow, (call_id, number))
    if row is None:
        return None
    rules = session.get(RuleSetRow, number)
    label = f"+rules/{number}+{rules.digest}" if rules is not None else ""
    detail = json.loads(open_value(session, call_id, "insight.detail", row.detail_json) or "{}")
    detail.pop("problem", None)
    from callscope.qa import generated_summaries

    return {"rules_version": number, "version": row.version + label, **detail,
            "generated_summary": generated_summaries.of(session, call_id)}
