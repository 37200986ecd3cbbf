"""Topics of the customers' problem statements: the newest run (or one chosen), the runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from callscope.api.deps import Reader, Svc
from callscope.api.responses import TopicRunListOut, TopicRunOut
from callscope.privacy import access_log
from callscope.qa import topics
from callscope.store.db import TopicRun

router = APIRouter(tags=["insight"])


@router.get("/v1/topics", response_model=TopicRunOut, responses={404: {"description": "no topic run yet"}})
def get_topics(svc: Svc, who: Reader,
               run: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a run's id; default the newest")] = None) -> dict:
    """A topic run: its window, and its topics (surging or dropping in sentiment first, then new
    ones, then by volume), each with its top terms, calls per day, mean customer sentiment per day,
    representative problem statements (each read goes into the access log) and a link to its
    calls. Runs are made by a worker once a day (yesterday) and by ``callscope topics``."""
    with svc.sessions() as s:
        row = s.get(TopicRun, run) if run is not None else topics.latest(s)
        if row is None:
            raise HTTPException(404, f"no topic run {run}" if run else
                                "no topic run yet: a worker makes one a day; `callscope topics --from DAY` makes one now")
        body = topics.describe(s, row, with_text=True)
    for call_id in {r["call_id"] for t in body["topics"] for r in t["representatives"]}:
        access_log.record(svc.sessions, who, call_id, "transcript")
    return body


@router.get("/v1/topics/runs", response_model=TopicRunListOut)
def list_topic_runs(svc: Svc, _who: Reader) -> dict:
    """The newest 50 topic runs: id, window and number of problem statements."""
    with svc.sessions() as s:
        return {"runs": topics.runs(s)}
