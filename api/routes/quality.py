"""Routes for spot checks and the model's quality: the day's QA sample, reviewers' verdicts, and
model-versus-reviewer agreement (:mod:`callscope.qa.spot_checks`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from callscope.api.deps import Admin, CallId, Reader, Reviewer, Svc, check_days
from callscope.api.responses import QualityOut, SampleOut, SpotCheckListOut, SpotCheckOut
from callscope.qa import spot_checks
from callscope.service.feed import day_bounds
from callscope.store.db import SpotCheck

router = APIRouter()


class ReviewIn(BaseModel):
    categories: list[str] | None = Field(None, max_length=200, description="the categories the call should have "
                                         "matched; omitted: the call's own are confirmed")


def _row(c: SpotCheck) -> dict:
    return {"call_id": c.call_id, "url": f"/v1/calls/{c.call_id}", "day": c.day, "stratum": c.stratum,
            "probability": round(c.probability, 6), "weight": round(c.weight, 4), "reason": c.reason, "status": c.status,
            "model_level": c.model_level, "reviewer_level": c.reviewer_level,
            "categories_model": [x for x in (c.categories_model or "").split(";") if x] if c.status == "reviewed" else None,
            "categories_reviewer": [x for x in (c.categories_reviewer or "").split(";") if x] if c.status == "reviewed" else None,
            "reviewer": c.reviewer, "reviewed_at": c.reviewed_at.isoformat() if c.reviewed_at else None}


@router.post("/v1/spot-checks/sample", response_model=SampleOut, response_model_exclude_unset=True)
def draw_sample(svc: Svc, _who: Admin, day: Annotated[date, Query(alias="date")]) -> dict:
    """Draw a day's sample now (it is drawn by itself after each day): ``CALLSCOPE_SPOT_CHECK_SHARE``
    of its analysed calls, stratified by team and level, red and low-confidence calls over-sampled.
    A day is drawn once."""
    check_days(day)
    with svc.sessions() as s:
        drawn = spot_checks.sample_day(s, day, svc.settings.spot_check_share, svc.settings.review_delays)
        s.commit()
        return drawn


@router.get("/v1/spot-checks", response_model=SpotCheckListOut)
def list_spot_checks(svc: Svc, _who: Reader, day: Annotated[date | None, Query(alias="date")] = None,
                     status: Annotated[str | None, Query(pattern="^(open|reviewed)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict:
    """The review queue: sampled calls with their stratum, chance of being drawn and weight."""
    q = select(SpotCheck).order_by(SpotCheck.day.desc(), SpotCheck.stratum, SpotCheck.call_id).limit(limit)
    if day:
        q = q.where(SpotCheck.day == day.isoformat())
    if status:
        q = q.where(SpotCheck.status == status)
    with svc.sessions() as s:
        return {"spot_checks": [_row(c) for c in s.execute(q).scalars()]}


@router.post("/v1/spot-checks/{call_id}/review", response_model=SpotCheckOut)
def review_spot_check(call_id: CallId, body: ReviewIn, svc: Svc, who: Reviewer) -> dict:
    """Confirm a sampled call as it stands, after any corrections (``POST /v1/calls/{id}/corrections``):
    the reviewer's level is the call's current one; ``categories`` says which categories should
    have matched. Reviewing again replaces the verdict."""
    with svc.sessions() as s:
        try:
            check = spot_checks.review(s, call_id, who.name, body.categories)
        except KeyError:
            raise HTTPException(404, f"call {call_id} is not in a spot-check sample") from None
        s.commit()
        return _row(check)


@router.get("/v1/quality", response_model=QualityOut)
def quality(svc: Svc, _who: Reader, date_from: Annotated[date, Query(alias="from")],
            date_to: Annotated[date, Query(alias="to", description="inclusive")],
            period: Annotated[str, Query(pattern="^(day|week)$")] = "week") -> dict:
    """Model-versus-reviewer agreement on the spot checks reviewed in the dates: on the level
    (weighted accuracy and Cohen's kappa with 95 % intervals, the sample size and the effective
    one), per reviewer level and per category; overall and per day or week."""
    check_days(date_from, date_to)
    if date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    with svc.sessions() as s:
        return spot_checks.quality(s, day_bounds(date_from)[0], day_bounds(date_to)[1], period)
