"""Topics of the customers' problem statements over a window of days, in the database.

A run (:func:`run`) takes the problem statements of the calls of ``day_from``..``day_to`` (UTC,
the calls' current rule-set version) and of the :data:`BASELINE_DAYS` days before, and:

1. **samples** them, for bounded memory at any volume: at most :data:`PER_DAY` statements a day
   are opened (seeded, the same for the same data), so a run reads at most
   ``PER_DAY × (window + baseline days)`` vectors whatever a year holds;
2. **clusters** the sample of the window and the baseline days together
   (:func:`callscope.scoring.insight.topics.discover`: PCA + HDBSCAN, at most 20,000 statements;
   clustering the window alone would split a surging topic into many and lose the usual ones),
   names each topic by its c-TF-IDF top terms and keeps three representative statements of the
   window as (call, utterance) references;
3. **follows** topics from run to run: a topic whose centre is within
   :data:`FOLLOW_MIN_SIMILARITY` of a topic of the previous run keeps its key; else it is new;
4. **assigns** every window call (in batches) and the baseline samples to the topics, counts
   them per day and averages the customer's sentiment per topic and day;
5. finds **surges** (:func:`callscope.scoring.insight.topics.surges`, each window day against the
   baseline days before it) and **sentiment drops** (a topic's mean customer sentiment in the
   window at least :data:`SENTIMENT_DROP` below its baseline mean, each side with at least
   :data:`MIN_CALLS` calls), and queues a ``window`` alert for each through the alert outbox
   (ids, counts and links only: never transcript text).

What a run stores: the topics (terms, counts, sentiment, flags, references) and each window
call's topic (``call_topics``, deleted with the call). A topic's top terms are words customers
said, aggregated over at least ten statements; an erased call's words leave them at the next run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from callscope.privacy.call_keys import open_unless_erased
from callscope.qa.insights import vector_of
from callscope.scoring.insight import topics as T
from callscope.service.feed import call_time, day_bounds
from callscope.store.db import Call, CallInsight, CallTopic, TopicRun

BASELINE_DAYS = 7
PER_DAY = 3000
FOLLOW_MIN_SIMILARITY = 0.85
SENTIMENT_DROP = 0.3
MIN_CALLS = 5
BATCH = 1000
VERSION = "topics/pca32-hdbscan-leaf+ctfidf/1"


class TopicsError(ValueError):
    """A run that cannot be made (bad window, nothing to cluster)."""


@dataclass(frozen=True)
class Statement:
    call_id: str
    day: int  # index into the run's days
    sentiment: float | None


def _days(day_from: date, day_to: date, baseline: int) -> list[date]:
    first = day_from - timedelta(days=baseline)
    return [first + timedelta(days=k) for k in range((day_to - first).days + 1)]


def _rows(session: Session, start, end):
    current = (CallInsight.call_id == Call.id) & (CallInsight.rules_version == Call.rules_version)
    return (select(Call.id, call_time(), Call.customer_sentiment).join(CallInsight, current)
            .where(Call.status == "done", call_time() >= start, call_time() < end,
                   CallInsight.problem_vector.is_not(None)))


def _vectors(session: Session, ids: list[str]) -> dict[str, np.ndarray]:
    """The problem vectors of ``ids`` (current version), opened in batches; erased calls left out."""
    out: dict[str, np.ndarray] = {}
    for k in range(0, len(ids), BATCH):
        chunk = ids[k:k + BATCH]
        rows = session.execute(select(CallInsight.call_id, CallInsight.problem_vector)
                               .join(Call, (Call.id == CallInsight.call_id) & (Call.rules_version == CallInsight.rules_version))
                               .where(CallInsight.call_id.in_(chunk)))
        for call_id, stored in rows:
            v = vector_of(session, call_id, stored)
            if v is not None:
                out[call_id] = v
    return out


def _problem_text(session: Session, call_id: str) -> tuple[str, int | None]:
    """The problem statement's words and first utterance index, from the sealed detail."""
    row = session.execute(select(CallInsight.detail_json).join(
        Call, (Call.id == CallInsight.call_id) & (Call.rules_version == CallInsight.rules_version))
        .where(CallInsight.call_id == call_id)).scalar_one_or_none()
    plain = open_unless_erased(session, call_id, "insight.detail", row) if row else None
    problem = (json.loads(plain) or {}).get("problem") if plain else None
    if not problem:
        return "", None
    return problem.get("text") or "", (problem.get("utterances") or [None])[0]


def _by_day(session: Session, days: list[date]) -> Iterator[tuple[int, list[Statement]]]:
    """Per day, a seeded sample of at most :data:`PER_DAY` statements."""
    for k, d in enumerate(days):
        start, end = day_bounds(d)
        rows = [Statement(cid, k, s) for cid, _t, s in session.execute(_rows(session, start, end).order_by(Call.id))]
        if len(rows) > PER_DAY:
            pick = np.random.default_rng(T.SEED + k).choice(len(rows), size=PER_DAY, replace=False)
            rows = [rows[i] for i in sorted(pick)]
        yield k, rows


def _follow(centres: np.ndarray, previous: list[dict], next_key: int) -> tuple[list[int], list[bool], int]:
    """Keys for ``centres`` taken from the previous run's topics (nearest centre within
    :data:`FOLLOW_MIN_SIMILARITY`, each used once), new keys for the rest."""
    keys, new = [], []
    if previous:
        old = np.stack([np.frombuffer(bytes.fromhex(t["centre"]), dtype=np.float16).astype(np.float32) for t in previous])
        sims = centres @ old.T
    taken: set[int] = set()
    for i in range(len(centres)):
        match = None
        if previous:
            for j in np.argsort(-sims[i]):
                if sims[i, j] < FOLLOW_MIN_SIMILARITY:
                    break
                if int(j) not in taken:
                    match = int(j)
                    break
        if match is not None:
            taken.add(match)
            keys.append(int(previous[match]["key"]))
            new.append(False)
        else:
            keys.append(next_key)
            new.append(True)
            next_key += 1
    return keys, new, next_key


def run(session: Session, day_from: date, day_to: date, created_by: str, baseline_days: int = BASELINE_DAYS,
        auto: bool = False) -> TopicRun:
    """Make and store a topic run (the caller commits); TopicsError when the window is empty.
    ``auto``: the worker's daily run of one day (at most one per day: a second one fails to
    commit)."""
    if day_to < day_from or (day_to - day_from).days > 31:
        raise TopicsError("the window is one to 31 days: 'to' on or after 'from'")
    days = _days(day_from, day_to, baseline_days)
    window = [k for k, d in enumerate(days) if d >= day_from]
    sampled: dict[int, list[Statement]] = dict(_by_day(session, days))
    vectors = _vectors(session, [s.call_id for k in sampled for s in sampled[k]])
    clustered = [s for k in sampled for s in sampled[k] if s.call_id in vectors]
    in_window = sum(1 for s in clustered if s.day in window)
    if in_window < T.MIN_CLUSTER_SIZE or len(clustered) < 2 * T.MIN_CLUSTER_SIZE:
        raise TopicsError(f"{in_window} problem statements in the window: too few to find topics")
    x = np.stack([vectors[s.call_id] for s in clustered])
    found = T.discover(x)
    if len(found.centres) == 0:
        raise TopicsError("no topic stands out in the window")
    texts_refs = [_problem_text(session, s.call_id) for s in clustered]
    terms = T.top_terms([t for t, _ in texts_refs], found.labels)
    window_rows = np.array([s.day in window for s in clustered])
    reps = T.representatives(x, np.where(window_rows, found.labels, -1), found.centres)
    previous_run = session.execute(select(TopicRun).where(TopicRun.day_to < day_from.isoformat())
                                   .order_by(TopicRun.day_to.desc(), TopicRun.id.desc()).limit(1)).scalar_one_or_none()
    previous = json.loads(previous_run.topics_json)["topics"] if previous_run else []
    next_key = json.loads(previous_run.topics_json).get("next_key", 1) if previous_run else 1
    keys, new, next_key = _follow(found.centres, previous, next_key)
    # counts and sentiment per day, from each day's sample (at most PER_DAY statements)
    counts = np.zeros((len(days), len(found.centres)))
    totals = np.zeros(len(days))
    sentiment = defaultdict(list)
    for k in range(len(days)):
        day_rows = [s for s in sampled[k] if s.call_id in vectors]
        if not day_rows:
            continue
        labels = T.assign(np.stack([vectors[s.call_id] for s in day_rows]), found.centres)
        totals[k] = len(day_rows)
        for s, t in zip(day_rows, labels):
            if t >= 0:
                counts[k, t] += 1
                if s.sentiment is not None:
                    sentiment[(k, int(t))].append(s.sentiment)
    flagged: dict[int, dict] = {}
    for h in T.surges(counts, totals, baseline_periods=baseline_days):
        if h.period in window:
            flagged.setdefault(h.topic, {})["surge"] = {"day": days[h.period].isoformat(), "share": h.share,
                                                         "baseline": h.baseline, "count": h.count}
    topics = []
    for t in range(len(found.centres)):
        now = [v for k in window for v in sentiment[(k, t)]]
        before = [v for k in range(len(days)) if k not in window for v in sentiment[(k, t)]]
        drop = None
        if len(now) >= MIN_CALLS and len(before) >= MIN_CALLS and np.mean(now) <= np.mean(before) - SENTIMENT_DROP:
            drop = {"window_mean": round(float(np.mean(now)), 3), "baseline_mean": round(float(np.mean(before)), 3),
                    "calls": len(now)}
        topics.append({
            "key": keys[t], "terms": terms.get(t, []), "new": new[t] and previous_run is not None,
            "calls": int(counts[window, t].sum()),
            "per_day": {days[k].isoformat(): int(counts[k, t]) for k in range(len(days))},
            "sentiment_per_day": {days[k].isoformat(): round(float(np.mean(sentiment[(k, t)])), 3)
                                  for k in range(len(days)) if sentiment[(k, t)]},
            "surge": flagged.get(t, {}).get("surge"), "sentiment_drop": drop,
            "representatives": [{"call_id": clustered[i].call_id, "utterance": texts_refs[i][1]} for i in reps.get(t, [])],
            "centre": found.centres[t].astype(np.float16).tobytes().hex(),
        })
    row = TopicRun(day_from=day_from.isoformat(), day_to=day_to.isoformat(), baseline_days=baseline_days,
                   statements=int(sum(totals[k] for k in window)), clustered=int(min(len(clustered), T.MAX_SAMPLE)),
                   version=VERSION, topics_json=json.dumps({"topics": topics, "next_key": next_key}),
                   created_by=created_by, auto_day=day_from.isoformat() if auto else None)
    session.add(row)
    session.flush()
    _link_calls(session, row.id, days, window, found.centres, keys)
    from callscope.alerts.outbox import on_topic_run

    on_topic_run(session, row.id, [t for t in topics if t["surge"] or t["sentiment_drop"]])
    return row


def _link_calls(session: Session, run_id: int, days: list[date], window: list[int], centres: np.ndarray,
                keys: list[int]) -> None:
    """Every window call's topic (its vector assigned to the nearest centre), in batches."""
    start, end = day_bounds(days[window[0]])[0], day_bounds(days[window[-1]])[1]
    ids = [cid for cid, _t, _s in session.execute(_rows(session, start, end).order_by(Call.id))]
    for k in range(0, len(ids), BATCH):
        got = _vectors(session, ids[k:k + BATCH])
        if not got:
            continue
        chunk = list(got)
        labels = T.assign(np.stack([got[c] for c in chunk]), centres)
        rows = [{"run_id": run_id, "call_id": c, "topic": keys[int(t)]} for c, t in zip(chunk, labels) if t >= 0]
        if rows:
            session.execute(insert(CallTopic), rows)


def latest(session: Session) -> TopicRun | None:
    return session.execute(select(TopicRun).order_by(TopicRun.day_to.desc(), TopicRun.id.desc()).limit(1)).scalar_one_or_none()


def describe(session: Session, row: TopicRun, with_text: bool = False) -> dict:
    """A run for the API: its window and topics, surging and new first, then by volume; with
    ``with_text``, each representative's words (opened from its call; erased calls left out)."""
    body = json.loads(row.topics_json)
    topics = []
    for t in body["topics"]:
        t = {k: v for k, v in t.items() if k != "centre"}
        if with_text:
            reps = []
            for r in t["representatives"]:
                text, _ = _problem_text(session, r["call_id"])
                if text:
                    reps.append({**r, "text": text, "link": f"/calls/{r['call_id']}" + (f"#u{r['utterance']}" if r["utterance"] is not None else "")})
            t["representatives"] = reps
        t["calls_link"] = f"/?topic={row.id}.{t['key']}"
        topics.append(t)
    topics.sort(key=lambda t: (t["surge"] is None and t["sentiment_drop"] is None, not t["new"], -t["calls"]))
    return {"id": row.id, "from": row.day_from, "to": row.day_to, "baseline_days": row.baseline_days,
            "statements": row.statements, "clustered": row.clustered, "version": row.version,
            "created_at": row.created_at.isoformat(), "topics": topics}


def runs(session: Session, limit: int = 50) -> list[dict]:
    rows = session.execute(select(TopicRun.id, TopicRun.day_from, TopicRun.day_to, TopicRun.statements, TopicRun.created_at)
                           .order_by(TopicRun.id.desc()).limit(limit)).all()
    return [{"id": i, "from": a, "to": b, "statements": n, "created_at": c.isoformat()} for i, a, b, n, c in rows]


def due(session: Session, today: date) -> date | None:
    """Yesterday, when the worker has not made its run of it yet."""
    yesterday = today - timedelta(days=1)
    done = session.execute(select(func.count()).select_from(TopicRun)
                           .where(TopicRun.auto_day == yesterday.isoformat())).scalar_one()
    return None if done else yesterday
