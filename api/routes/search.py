"""Search by meaning over the utterances of stored calls, combined with the list's filters."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from callscope.analysis.call_settings import Language
from callscope.api.deps import Reader, Svc, check_days
from callscope.api.responses import MeaningSearchOut
from callscope.api.routes.reports import MetaFilter, _list_filters
from callscope.privacy import access_log
from callscope.privacy.call_keys import open_unless_erased
from callscope.qa import meaning_search
from callscope.qa.corrections import Label
from callscope.store.db import Call

router = APIRouter(tags=["insight"])


@router.get("/v1/search", response_model=MeaningSearchOut)
def search_by_meaning(
    svc: Svc,
    who: Reader,
    q: Annotated[str, Query(min_length=2, max_length=300, description="what was said, in your own words and any "
                            "supported language, e.g. 'customers who were charged twice'")],
    agent_id: MetaFilter = None, team: MetaFilter = None, queue: MetaFilter = None, product: MetaFilter = None,
    escalation: str | None = Query(None, pattern="^(green|yellow|orange|red)$"),
    language: Annotated[Language | None, Query(description="the call's language")] = None,
    emotion: Annotated[Label | None, Query(description="calls in which this role showed this emotion")] = None,
    emotion_role: Annotated[str, Query(pattern="^(customer|agent)$")] = "customer",
    emotion_min_share: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
    category: Annotated[str | None, Query(max_length=63)] = None,
    reason: Annotated[str | None, Query(max_length=63)] = None,
    outcome: Annotated[str | None, Query(pattern="^(resolved|not_resolved|follow_up|transferred|unknown)$")] = None,
    topic: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}\.[0-9]{1,9}$")] = None,
    channel: Annotated[str | None, Query(max_length=200)] = None,
    customer: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
    at_risk: Annotated[str | None, Query(pattern="^(low|medium|high)$")] = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict:
    """The utterances nearest in meaning to ``q`` over the analysed calls the filters allow (the
    list's filters), best first, one per call: each with its text, time, role, whether the
    decoder was sure of it, similarity and a link to that moment. Each result's text is a read of
    the call's transcript and goes into the access log. The query is embedded in this process
    (the sentence encoder loads on the first search, about a second)."""
    check_days(date_from, date_to)
    if date_from and date_to and date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    filters = dict(agent_id=agent_id, team=team, queue=queue, product=product, escalation=escalation, language=language,
                   emotion=emotion, date_from=date_from, date_to=date_to, category=category, reason=reason,
                   outcome=outcome, topic=topic, channel=channel, customer=customer, at_risk=at_risk)
    allowed = None if all(v is None for v in filters.values()) else _list_filters(
        select(Call).where(Call.status == "done"), status=None, emotion_role=emotion_role,
        emotion_min_share=emotion_min_share, **filters)
    vector = meaning_search.query_vector(q)
    results = []
    with svc.sessions() as s:
        found = meaning_search.search(s, vector, allowed, limit)
        for hit in found.hits:
            call = s.get(Call, hit.call_id)
            text = open_unless_erased(s, hit.call_id, "result_json", call.result_json) if call and call.result_json else None
            name = open_unless_erased(s, hit.call_id, "filename", call.filename) if call else None
            doc = json.loads(text) if text else {}
            utterances = doc.get("utterances") or []
            roles = (doc.get("call_scores") or {}).get("roles") or {}
            if call is None or name is None or hit.utterance >= len(utterances):
                continue  # erased, or analysed again since the index was read
            u = utterances[hit.utterance]
            rel = u.get("reliability")
            results.append({
                "call_id": call.id, "filename": name, "utterance": hit.utterance, "start": u.get("start") or 0.0,
                "end": u.get("end") or 0.0, "role": roles.get(u.get("speaker")), "text": " ".join(str(u.get("text") or "").split()),
                "reliable": rel is None or bool(rel.get("reliable", True)), "similarity": hit.similarity,
                "link": f"/calls/{call.id}?t={round(float(u.get('start') or 0.0), 2)}#u{hit.utterance}",
                "language": call.language, "escalation": call.escalation, "reason": call.reason,
                "outcome": call.outcome, "recorded_at": call.recorded_at.isoformat() if call.recorded_at else None,
                "uploaded_at": call.created_at.isoformat() if call.created_at else None})
        searchable = meaning_search.searchable_calls(s)
    for r in results:
        access_log.record(svc.sessions, who, r["call_id"], "transcript")
    return {"query": q, "results": results, "utterances_ranked": found.utterances_ranked,
            "calls_opened": found.calls_opened, "searchable_calls": searchable, "method": meaning_search.method()}
