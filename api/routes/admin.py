"""Administration routes: the retention purge on demand, erasure by data subject, the access log
and API keys."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from callscope.api.deps import Admin, Svc, check_days
from callscope.api.responses import AccessLogOut, KeyListOut, NewKeyOut, PurgeOut, RevokedKeyOut, SubjectErasureOut
from callscope.privacy import access_log
from callscope.privacy.erasure import erase_subject, purge_older_than
from callscope.privacy.pseudonyms import subject_refs
from callscope.service.auth import SCOPES, create_key, describe
from callscope.service.feed import day_bounds
from callscope.store.db import ApiKey, utcnow

router = APIRouter()


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="who or what uses the key")
    scopes: list[str] = Field(min_length=1, max_length=10, description=f"any of {', '.join(SCOPES)}")
    agent_id: str | None = Field(None, min_length=1, max_length=200, description="for a key with the agent scope "
                                 "alone: the agent whose evaluations and coaching it sees")


@router.post("/v1/admin/purge", response_model=PurgeOut)
def purge(svc: Svc, _who: Admin, older_than_days: Annotated[float | None, Query(gt=0, le=365_000)] = None) -> dict:
    """Erase every call older than ``older_than_days`` (default: the retention setting) by
    call time, except calls being analysed now."""
    days = older_than_days if older_than_days is not None else svc.settings.retention_days
    if days is None:
        raise HTTPException(400, "no retention set: pass older_than_days or set CALLSCOPE_RETENTION_DAYS")
    purged = purge_older_than(svc.sessions, svc.store, days, rules=svc.settings.journey_rules)
    return {"older_than_days": days, "purged": len(purged), "call_ids": purged}


@router.delete("/v1/subjects/{identifier}", response_model=SubjectErasureOut,
                responses={404: {"description": "no call of this customer"}})
def erase_by_subject(
    identifier: Annotated[str, Path(min_length=1, max_length=200, description="the customer's phone number, customer id or e-mail address")],
    svc: Svc, _who: Admin,
    kind: Annotated[Literal["any", "phone", "customer_id", "email"],
                    Query(description="what the identifier is; any: every kind it can be")] = "any",
) -> dict:
    """Erase every call and text interaction of one customer (GDPR Art. 17), found by the phone
    number, customer id or e-mail address given at upload (matched through their pseudonyms: ``+46 70-123 45 67`` and ``0046701234567``
    are the same number). Each call goes as ``DELETE /v1/calls/{id}`` does. Returns what was
    erased; 404 if no call matches."""
    try:
        refs = subject_refs(svc.secret, identifier, kind)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    report = erase_subject(svc.sessions, svc.store, refs, svc.settings.journey_rules)
    if not report["calls_erased"]:
        raise HTTPException(404, "no call of this customer is stored")
    return report


@router.get("/v1/access-log", response_model=AccessLogOut)
def read_access_log(
    svc: Svc, _who: Admin,
    call_id: Annotated[str | None, Query(max_length=36)] = None,
    key_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="the next page: the last id of this one")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict:
    """Who (API key) read which call's transcript or audio, and when, newest first (one row per
    key, call and resource per minute). Kept for ``CALLSCOPE_ACCESS_LOG_DAYS``."""
    check_days(date_from, date_to)
    rows = access_log.entries(svc.sessions, call_id=call_id, key_id=key_id,
                              start=day_bounds(date_from)[0] if date_from else None,
                              end=day_bounds(date_to)[1] if date_to else None, before_id=before_id, limit=limit)
    return {"entries": [access_log.describe(r) for r in rows],
            "next_before_id": rows[-1].id if len(rows) == limit else None}


@router.post("/v1/keys", status_code=201, response_model=NewKeyOut)
def new_key(body: KeyIn, svc: Svc, _who: Admin) -> dict:
    """Create a key. The key is in this response only; it is stored hashed."""
    try:
        with svc.sessions() as s:
            row, key = create_key(s, body.name, body.scopes, body.agent_id)
            s.commit()
            return {**describe(row), "key": key}
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/v1/keys", response_model=KeyListOut)
def list_keys(svc: Svc, _who: Admin) -> dict:
    with svc.sessions() as s:
        return {"keys": [describe(k) for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]}


@router.delete("/v1/keys/{key_id}", response_model=RevokedKeyOut)
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: Svc, _who: Admin) -> dict:
    """Revoke a key; requests with it get 401 from now on."""
    with svc.sessions() as s:
        done = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
        s.commit()
        if done.rowcount != 1:
            raise HTTPException(404, f"no active key {key_id}")
    return {"revoked": key_id}

