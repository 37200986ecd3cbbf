"""Summaries written by a local model, per call, in the database: made by a worker after it
stores an analysis (never by the API), when the deployment names a model file
(``CALLSCOPE_SUMMARY_MODEL``), within ``CALLSCOPE_SUMMARY_BUDGET_S``. The text is sealed
under the call's key and erased with the call; when none could be made the row says why, and
the extractive summary is what the call shows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from callscope.analysis.schema import CallAnalysis
from callscope.privacy.call_keys import open_unless_erased, seal_value
from callscope.scoring.insight.generated_summary import GeneratedSummary, generate
from callscope.store.db import Call, GeneratedSummaryRow


def make(sessions: sessionmaker, call_id: str, result: CallAnalysis, model: Path, budget_s: float) -> GeneratedSummary:
    """Write the call's summary with the model (outside any transaction: it takes seconds) and
    store it, or why there is none; nothing is stored for a call erased meanwhile."""
    made = generate(result, model, budget_s)
    with sessions() as s:
        if s.get(Call, call_id) is None:
            return made
        s.execute(delete(GeneratedSummaryRow).where(GeneratedSummaryRow.call_id == call_id))
        s.execute(insert(GeneratedSummaryRow), [{
            "call_id": call_id, "model": made.model[:300], "seconds": made.seconds, "fallback": (made.fallback or None) and made.fallback[:300],
            "text": seal_value(s, call_id, "summary.generated", made.text)}])
        s.commit()
    return made


def of(session: Session, call_id: str) -> dict | None:
    """The stored generated summary of a call (text, model, seconds, fallback), None when none
    was tried."""
    row = session.get(GeneratedSummaryRow, call_id)
    if row is None:
        return None
    text = open_unless_erased(session, call_id, "summary.generated", row.text) if row.text else None
    return {"text": text, "model": row.model, "seconds": row.seconds, "fallback": row.fallback,
            "made_at": row.made_at.isoformat()}
