"""The calls list's sort orders and their keyset cursors. A page is found by the last row's sort
key and id, never by an offset, so page 200 of 10,000 calls costs what page 1 does and a call
uploaded meanwhile neither repeats nor skips a row. Missing values (no duration yet, no customer
speech, no level) sort last in either direction: sorting by lowest sentiment opens on the calls
that have one, not on pages of calls without a customer."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from fastapi import HTTPException
from sqlalchemy import Select, case, func

from callscope.service.feed import call_time
from callscope.store.db import Call

LEVEL_RANK = {"green": 0, "yellow": 1, "orange": 2, "red": 3}
#: what a missing value sorts as: below every duration (≥ 0 and ≤ 10⁶), sentiment (-1..1) and
#: level rank (0..3) when descending, above them when ascending, so that it comes last either way
_LAST = {True: -9.0, False: 1e9}


def _level_rank(missing: float):
    return func.coalesce(case(*((Call.escalation == lvl, rank) for lvl, rank in LEVEL_RANK.items()), else_=None), missing)


#: sort name -> (SQL key given the missing value, the key of a loaded row given it, whether the key is a time)
SORTS = {
    "uploaded": (lambda m: Call.created_at, lambda c, m: c.created_at, True),
    "recorded": (lambda m: call_time(), lambda c, m: c.recorded_at or c.created_at, True),
    "duration": (lambda m: func.coalesce(Call.duration_s, m), lambda c, m: _or(c.duration_s, m), False),
    "sentiment": (lambda m: func.coalesce(Call.customer_sentiment, m), lambda c, m: _or(c.customer_sentiment, m), False),
    "level": (_level_rank, lambda c, m: float(LEVEL_RANK[c.escalation]) if c.escalation in LEVEL_RANK else m, False),
}
SORT_PATTERN = "^-?(" + "|".join(SORTS) + ")$"


def _or(value: float | None, missing: float) -> float:
    return missing if value is None else float(value)


def parse_sort(sort: str) -> tuple[str, bool]:
    """``name`` (ascending) or ``-name`` (descending) → (name, descending)."""
    return sort.lstrip("-"), sort.startswith("-")


def order(q: Select, sort: str, cursor: str | None) -> Select:
    """``q`` ordered by ``sort`` (then id, same direction), starting after ``cursor``."""
    name, desc = parse_sort(sort)
    sql_key, _, is_time = SORTS[name]
    key = sql_key(_LAST[desc])
    if cursor:
        value, last_id = _decode(cursor, sort, is_time)
        if desc:
            q = q.where((key < value) | ((key == value) & (Call.id < last_id)))
        else:
            q = q.where((key > value) | ((key == value) & (Call.id > last_id)))
    return q.order_by(key.desc(), Call.id.desc()) if desc else q.order_by(key.asc(), Call.id.asc())


def cursor_after(call: Call, sort: str) -> str:
    """The cursor of the page that follows ``call`` in ``sort``."""
    name, desc = parse_sort(sort)
    _, row_key, is_time = SORTS[name]
    value = row_key(call, _LAST[desc])
    payload = {"sort": sort, "key": value.isoformat() if is_time else value, "id": call.id}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode(cursor: str, sort: str, is_time: bool) -> tuple[object, str]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        key, call_id = payload["key"], str(payload["id"])
        same = payload["sort"] == sort
        value = datetime.fromisoformat(key) if is_time else float(key)
    except Exception as exc:  # noqa: BLE001
        raise HTTPException(400, "invalid cursor: pass the next_cursor of a previous page") from exc
    if not same:
        raise HTTPException(400, f"the cursor belongs to sort '{payload['sort']}', not '{sort}': start again without it")
    return value, call_id
