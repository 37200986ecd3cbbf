"""Days of stored calls whose problem statements are real customer queries (banking77's test
split, CC BY 4.0, PolyAI), for topic runs: copies of one analysed call, each with the insight
row of its own query (the real sentence encoder's vector, sealed under the copy's key) and a
call time on its day. Intents are drawn evenly from :data:`INTENTS` on every day but the surge
day, when ``surging`` takes ``surge_share`` of the day."""

from __future__ import annotations

import base64
import csv
import json
import re
import uuid
from datetime import UTC, date, datetime, time

import numpy as np

from benchmarks.reference import DATA

INTENTS = ("card_arrival", "lost_or_stolen_card", "exchange_rate", "pin_blocked", "top_up_failed", "request_refund",
           "transfer_timing", "cash_withdrawal_charge", "age_limit", "apple_pay_or_google_pay")


def banking77(split: str = "test") -> dict[str, list[str]]:
    with open(DATA / "text" / "banking77" / f"{split}.csv", newline="", encoding="utf-8") as f:
        rows = [(r["text"], re.sub(r"[^a-z0-9_]", "", r["category"].lower())) for r in csv.DictReader(f)]
    out: dict[str, list[str]] = {}
    for text, intent in rows:
        out.setdefault(intent, []).append(text)
    return out


def seed(url: str, data_dir, template_id: str, days: list[date], per_day: int, surge_day: date, surging: str,
         surge_share: float = 0.4, seed_: int = 5) -> dict[str, list[str]]:
    """Insert the calls; returns the call ids per intent of the surge day (and ``"all"``)."""
    from sqlalchemy import insert, select

    from callscope.privacy.call_keys import CALL_FIELDS, open_value, seal_value
    from callscope.scoring.insight.vectors import shared_encoder
    from callscope.store.db import Call, CallInsight, make_engine, session_factory

    queries = banking77()
    rng = np.random.default_rng(seed_)
    picks: list[tuple[date, str, str]] = []
    for d in days:
        for _ in range(per_day):
            intent = surging if d == surge_day and rng.random() < surge_share else str(rng.choice(INTENTS))
            picks.append((d, intent, str(rng.choice(queries[intent]))))
    vectors = shared_encoder().encode([t for _, _, t in picks])
    engine = make_engine(url)
    calls, insights = Call.__table__, CallInsight.__table__
    out: dict[str, list[str]] = {"all": []}
    with session_factory(engine, data_dir)() as s:
        row = dict(s.execute(select(calls).where(calls.c.id == template_id)).mappings().one())
        ins = dict(s.execute(select(insights).where(insights.c.call_id == template_id)
                             .where(insights.c.rules_version == row["rules_version"])).mappings().one())
        plain = {f: open_value(s, template_id, f, row[f]) for f in CALL_FIELDS}
        detail = json.loads(open_value(s, template_id, "insight.detail", ins["detail_json"]))
        call_rows, insight_rows = [], []
        for (d, intent, text), v in zip(picks, vectors):
            cid = str(uuid.uuid4())
            when = datetime.combine(d, time(12), tzinfo=UTC)
            call_rows.append({**row, "id": cid, "external_id": None, "recorded_at": when, "created_at": when,
                              **{f: seal_value(s, cid, f, val) for f, val in plain.items()}})
            mine = {**detail, "problem": {"utterances": [1], "text": text}}
            insight_rows.append({**ins, "call_id": cid, "basis": uuid.uuid4().hex,
                                 "detail_json": seal_value(s, cid, "insight.detail", json.dumps(mine)),
                                 "problem_vector": seal_value(s, cid, "insight.vector",
                                                              base64.b64encode(v.astype(np.float16).tobytes()).decode())})
            out["all"].append(cid)
            if d == surge_day:
                out.setdefault(intent, []).append(cid)
        for k in range(0, len(call_rows), 500):
            s.execute(insert(calls), call_rows[k:k + 500])
            s.execute(insert(insights), insight_rows[k:k + 500])
        s.commit()
    engine.dispose()
    return out
