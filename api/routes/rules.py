"""Routes for rule sets (categories) and re-scoring: versions are added and activated by admins,
read by everyone with a key; a re-scoring run recomputes stored calls' categories under a
version without running ASR (:mod:`callscope.qa.rescoring`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from callscope.api.deps import Admin, CallId, Reader, Svc, check_days
from callscope.api.responses import CallCategoriesOut, RescoreRunOut, RuleSetListOut, RuleSetOut
from callscope.qa import categories, insights, rescoring
from callscope.scoring.rules import RulesError
from callscope.service.feed import day_bounds
from callscope.store.db import Call, RescoreRun, RuleSetRow

router = APIRouter()
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RuleSetIn(BaseModel):
    yaml: str = Field(max_length=1_000_000, description="the rule set in YAML (see the starter set, GET /v1/rules/1)")
    activate: bool = Field(False, description="make it the version new analyses use")


class RescoreIn(BaseModel):
    rules_version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version to re-score under; default the active one")
    since: date | None = Field(None, description="only calls whose call time is on or after this day (UTC)")


@router.get("/v1/rules", response_model=RuleSetListOut, response_model_exclude_unset=True)
def list_rule_sets(svc: Svc, _who: Reader) -> dict:
    """Every rule-set version, newest first, with its categories; ``active`` is the one new
    analyses use."""
    with svc.sessions() as s:
        current = categories.active(s).number
        s.commit()
        rows = s.execute(select(RuleSetRow).order_by(RuleSetRow.version.desc())).scalars().all()
        return {"active": current, "versions": [categories.describe(r) for r in rows]}


@router.get("/v1/rules/{version}", response_model=RuleSetOut)
def get_rule_set(version: Version, svc: Svc, _who: Reader) -> dict:
    """One version, with its YAML."""
    with svc.sessions() as s:
        row = s.get(RuleSetRow, version)
        if row is None:
            raise HTTPException(404, f"no rule-set version {version}")
        return categories.describe(row, with_yaml=True)


@router.post("/v1/rules", status_code=201, response_model=RuleSetOut, response_model_exclude_unset=True, responses={422: {"description": "the YAML does not validate"}})
def add_rule_set(body: RuleSetIn, svc: Svc, who: Admin) -> dict:
    """A new version (earlier ones never change); 422 says where the YAML is wrong."""
    with svc.sessions() as s:
        try:
            row = categories.add(s, body.yaml, who.name, activate=body.activate)
        except RulesError as exc:
            raise HTTPException(422, f"rule set: {exc}") from exc
        s.commit()
        s.refresh(row)
        return categories.describe(row)


@router.post("/v1/rules/{version}/activate", response_model=RuleSetOut, response_model_exclude_unset=True)
def activate_rule_set(version: Version, svc: Svc, _who: Admin) -> dict:
    """Make ``version`` the one new analyses use. Calls analysed before keep their categories
    until re-scored (``POST /v1/admin/rescore``)."""
    with svc.sessions() as s:
        try:
            categories.set_active(s, version)
        except KeyError:
            raise HTTPException(404, f"no rule-set version {version}") from None
        s.commit()
        return categories.describe(s.get(RuleSetRow, version))


@router.get("/v1/calls/{call_id}/categories", response_model=CallCategoriesOut, response_model_exclude_unset=True)
def call_categories(call_id: CallId, svc: Svc, _who: Reader,
                    rules_version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="default: the call's "
                                                               "current version")] = None) -> dict:
    """The categories a call matched under a rule-set version, each with its evidence
    (utterance indices and times in seconds) and in words, and its contact reason, outcome and
    summary under that version; every version it was scored under stays readable."""
    with svc.sessions() as s:
        call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        number = rules_version or call.rules_version
        if number is None:
            return {"rules_version": None, "categories": []}
        v = categories.version(s, number)
        if v is None:
            raise HTTPException(404, f"no rule-set version {number}")
        return {"rules_version": v.label, "current": number == call.rules_version,
                "categories": categories.categories_of(s, call_id, number),
                "insight": insights.insight_of(s, call_id, number)}


@router.post("/v1/admin/rescore", status_code=202, response_model=RescoreRunOut)
def start_rescore(body: RescoreIn, svc: Svc, who: Admin) -> dict:
    """Re-score stored calls under a rule-set version from their stored analyses (no ASR): the run
    is queued and taken by a worker of the pool between analyses; ``GET /v1/admin/rescore/{id}``
    shows its progress. If that worker dies, another resumes the run when its lease ends; calls
    already done are skipped."""
    check_days(body.since)
    since = day_bounds(body.since)[0] if body.since else None
    try:
        rec = rescoring.start(svc.sessions, body.rules_version, since, who.name, queued=True)
    except rescoring.RescoreError as exc:
        raise HTTPException(404, str(exc)) from exc
    return rescoring.describe(rec)


@router.get("/v1/admin/rescore/{run_id}", response_model=RescoreRunOut)
def rescore_progress(run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: Svc, _who: Admin) -> dict:
    """A re-scoring run: status (queued, running, done, failed, cancelled), the worker running
    it, total, done, skipped, failed."""
    with svc.sessions() as s:
        rec = s.get(RescoreRun, run_id)
        if rec is None:
            raise HTTPException(404, f"no re-scoring run {run_id}")
        return rescoring.describe(rec)


@router.post("/v1/admin/rescore/{run_id}/cancel", response_model=RescoreRunOut)
def cancel_rescore(run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: Svc, _who: Admin) -> dict:
    """Cancel a queued or running re-scoring run: a queued one is never taken; a running one (by
    a worker or ``callscope rescore``) stops after the batch at hand (at most 200 calls), keeping
    what it did. 409 if the run had already ended."""
    rec = rescoring.cancel(svc.sessions, run_id)
    if rec is None:
        raise HTTPException(404, f"no re-scoring run {run_id}")
    if rec.status != "cancelled":
        raise HTTPException(409, f"re-scoring run {run_id} has already ended ({rec.status})")
    return rescoring.describe(rec)
