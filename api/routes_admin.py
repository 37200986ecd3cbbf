"""Administration routes: the retention purge on demand and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from callscope.api.auth import SCOPES, create_key, describe
from callscope.api.db import ApiKey, utcnow
from callscope.api.deps import Admin, Svc
from callscope.api.erasure import purge_older_than

router = APIRouter()


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="who or what uses the key")
    scopes: list[str] = Field(min_length=1, description=f"any of {', '.join(SCOPES)}")


@router.post("/v1/admin/purge")
def purge(svc: Svc, _who: Admin, older_than_days: Annotated[float | None, Query(gt=0, le=365_000)] = None) -> dict:
    """Erase every call older than ``older_than_days`` (default: the retention setting) by
    call time, except calls being analysed now."""
    days = older_than_days if older_than_days is not None else svc.settings.retention_days
    if days is None:
        raise HTTPException(400, "no retention set: pass older_than_days or set CALLSCOPE_RETENTION_DAYS")
    purged = purge_older_than(svc.sessions, svc.store, days)
    return {"older_than_days": days, "purged": len(purged), "call_ids": purged}


@router.post("/v1/keys", status_code=201)
def new_key(body: KeyIn, svc: Svc, _who: Admin) -> dict:
    """Create a key. The key is in this response only; it is stored hashed."""
    try:
        with svc.sessions() as s:
            row, key = create_key(s, body.name, body.scopes)
            s.commit()
            return {**describe(row), "key": key}
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/v1/keys")
def list_keys(svc: Svc, _who: Admin) -> dict:
    with svc.sessions() as s:
        return {"keys": [describe(k) for k in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars()]}


@router.delete("/v1/keys/{key_id}")
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: Svc, _who: Admin) -> dict:
    """Revoke a key; requests with it get 401 from now on."""
    with svc.sessions() as s:
        done = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
        s.commit()
        if done.rowcount != 1:
            raise HTTPException(404, f"no active key {key_id}")
    return {"revoked": key_id}

