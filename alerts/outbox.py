"""What raises an alert, written to the durable outbox (:class:`~callscope.store.db.AlertDelivery`)
in the same transaction as its cause, so a dead receiver never blocks an analysis and no alert
is lost: :mod:`callscope.alerts.delivery` sends them.

- **call**: an analysed call at a subscription's ``min_level`` or worse, or matching a category
  marked ``alert: true``; one per call and subscription.
- **window**: a window alert of the active rule set (share of red calls in a queue over the last
  hour above a threshold, or above its own baseline); evaluated when a call in the group is
  done; once per window period and group.
- **window**, too: a topic of a topic run that surges or whose customer sentiment drops
  (:func:`on_topic_run`).
- **digest**: yesterday's summary, once a day per subscription.

Payloads carry ids, levels, category names, counts and metadata (queue, team, agent id): never
transcript text.
"""

from __future__ import annotations

import json
import statistics
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from callscope.scoring.rules.evaluate import Match
from callscope.scoring.rules.model import RuleSet, WindowAlert
from callscope.service.feed import call_time, day_bounds
from callscope.store.db import AlertDelivery, Call, CallCategory, Webhook, insert_for, utcnow

LEVELS = ("green", "yellow", "orange", "red")
EVENTS = ("call", "window", "digest")


def _subscribers(session: Session, event: str) -> list[Webhook]:
    hooks = session.execute(select(Webhook).where(Webhook.active.is_(True))).scalars().all()
    return [h for h in hooks if event in h.events.split(",")]


def _enqueue(session: Session, hook: Webhook, event: str, dedupe_key: str, payload: dict,
             call_id: str | None = None) -> bool:
    """Add one delivery unless this subscription already has one for ``dedupe_key`` (an insert
    that does nothing on conflict: two processes racing add one); True if added."""
    now = utcnow()
    stmt = insert_for(session, AlertDelivery).values(webhook_id=hook.id, event=event, dedupe_key=dedupe_key, call_id=call_id,
                                   payload_json=json.dumps({"event": event, **payload}), status="pending", attempts=0,
                                   next_attempt_at=now, created_at=now)
    added = session.execute(stmt.on_conflict_do_nothing(index_elements=["webhook_id", "dedupe_key"])
                            .returning(AlertDelivery.id)).scalar_one_or_none()
    return added is not None


def on_call_done(session: Session, call: Call, level: str | None, matches: list[Match], rules: RuleSet,
                 rules_label: str) -> int:
    """Alerts for one call just analysed (the caller commits with the result); how many were queued."""
    alerting = {c.name for c in rules.categories if c.alert}
    hits = [m for m in matches if m.category in alerting]
    n = 0
    for hook in _subscribers(session, "call"):
        at_level = level in LEVELS and LEVELS.index(level) >= LEVELS.index(hook.min_level)
        if not at_level and not hits:
            continue
        n += _enqueue(session, hook, "call", f"call:{call.id}", {
            "call_id": call.id, "url": f"/v1/calls/{call.id}", "level": level, "rules_version": rules_label,
            "categories": [{"name": m.category, "detail": m.detail, "times": [list(t) for t in m.times]} for m in hits],
            "queue": call.queue, "team": call.team, "product": call.product, "agent_id": call.agent_id,
            "channel": call.channel,
            "analysed_at": utcnow().isoformat()}, call_id=call.id)
    for window in rules.windows:
        n += _window(session, call, window, rules_label)
    return n


def _counts(session: Session, window: WindowAlert, group, value: str, start: datetime, end: datetime) -> tuple[int, int]:
    """(calls, matching calls) of the group in [start, end)."""
    where = [Call.status == "done", group == value, call_time() >= start, call_time() < end]
    total = session.execute(select(func.count()).select_from(Call).where(*where)).scalar_one()
    share_of = window.share_of
    if share_of.category is not None:
        match: ColumnElement[bool] = exists().where(CallCategory.call_id == Call.id, CallCategory.rules_version == Call.rules_version,
                               CallCategory.category == share_of.category)
    else:
        levels = LEVELS[LEVELS.index(share_of.level):] if share_of.or_worse else (share_of.level,)
        match = Call.escalation.in_(levels)
    matching = session.execute(select(func.count()).select_from(Call).where(*where, match)).scalar_one()
    return total, matching


def _window(session: Session, call: Call, window: WindowAlert, rules_label: str) -> int:
    value = getattr(call, window.group_by)
    if value is None:
        return 0
    group = getattr(Call, window.group_by)
    now = utcnow()
    span = timedelta(minutes=window.window_minutes)
    total, matching = _counts(session, window, group, value, now - span, now + timedelta(seconds=1))
    if total < window.min_calls:
        return 0
    share = matching / total
    fired, why = False, {}
    if window.above is not None and share > window.above:
        fired, why = True, {"above": window.above}
    if window.baseline_k is not None:
        past = []
        for w in range(1, window.baseline_weeks + 1):  # the same hour of the week, w weeks ago
            back = timedelta(weeks=w)
            n, m = _counts(session, window, group, value, now - back - span, now - back)
            if n >= window.min_calls:
                past.append(m / n)
        if len(past) >= 2:
            mean, sd = statistics.fmean(past), max(statistics.stdev(past), 0.02)
            if share > mean + window.baseline_k * sd:
                fired, why = True, {**why, "baseline_mean": round(mean, 4), "baseline_sd": round(sd, 4),
                                    "baseline_weeks": len(past), "baseline_k": window.baseline_k}
    if not fired:
        return 0
    period = int(now.timestamp() // span.total_seconds())
    n = 0
    for hook in _subscribers(session, "window"):
        n += _enqueue(session, hook, "window", f"window:{window.name}:{window.group_by}={value}:{period}", {
            "alert": window.name, "group_by": window.group_by, "group": value, "share": round(share, 4),
            "calls": total, "matching": matching, "window_minutes": window.window_minutes, "rules_version": rules_label,
            "share_of": window.share_of.model_dump(exclude_none=True), **why, "at": now.isoformat()})
    return n


def on_topic_run(session: Session, run_id: int, flagged: list[dict]) -> int:
    """A ``window`` alert for each topic of a topic run that surges or whose customers' sentiment
    drops (:mod:`callscope.qa.topics`): the topic's key, counts, shares and links to the topic
    and its calls; not its terms (they are customers' words). Once per run, topic and kind."""
    n = 0
    hooks = _subscribers(session, "window")
    for t in flagged:
        for kind in ("surge", "sentiment_drop"):
            if not t.get(kind):
                continue
            for hook in hooks:
                n += _enqueue(session, hook, "window", f"topic:{run_id}:{t['key']}:{kind}", {
                    "alert": f"topic_{kind}", "topic_run": run_id, "topic": t["key"], kind: t[kind],
                    "calls": t["calls"], "link": f"/topics?run={run_id}#topic-{t['key']}",
                    "calls_link": f"/?topic={run_id}.{t['key']}", "at": utcnow().isoformat()})
    return n


def digest_due(session: Session, day: date) -> int:
    """Queue the digest of ``day`` (UTC) for every digest subscriber that has none yet; how many."""
    key = f"digest:{day.isoformat()}"
    hooks = [h for h in _subscribers(session, "digest")
             if not session.execute(select(exists().where(AlertDelivery.webhook_id == h.id,
                                                          AlertDelivery.dedupe_key == key))).scalar()]
    if not hooks:  # every subscriber has it: nothing to count
        return 0
    start, end = day_bounds(day)
    where = and_(Call.status == "done", call_time() >= start, call_time() < end)
    levels = dict(session.execute(select(Call.escalation, func.count()).where(where).group_by(Call.escalation)).all())
    cats = dict(session.execute(select(CallCategory.category, func.count())
                                .join(Call, and_(Call.id == CallCategory.call_id,
                                                 Call.rules_version == CallCategory.rules_version))
                                .where(where).group_by(CallCategory.category)).all())
    worst = session.execute(select(Call.id, Call.escalation, Call.customer_sentiment, Call.queue).where(where)
                            .order_by(Call.customer_sentiment.asc().nulls_last()).limit(10)).all()
    payload = {"day": day.isoformat(), "calls": sum(levels.values()),
               "levels": {lvl: int(levels.get(lvl, 0)) for lvl in LEVELS},
               "categories": {k: int(v) for k, v in sorted(cats.items())},
               "worst_calls": [{"call_id": i, "url": f"/v1/calls/{i}", "level": lvl, "customer_sentiment": s, "queue": q}
                               for i, lvl, s, q in worst]}
    return sum(_enqueue(session, h, "digest", key, payload) for h in hooks)
