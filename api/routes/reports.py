"""Routes over many calls: the filtered list, aggregates with trend, the daily feed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import String, case, cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import sessionmaker

from callscope.analysis.call_settings import Language
from callscope.api.call_list import SORT_PATTERN, cursor_after, order
from callscope.api.deps import FIRST_DAY, Reader, Svc, check_days
from callscope.api.responses import AggregatesOut, CallListOut
from callscope.api.routes.calls import call_links
from callscope.privacy import access_log
from callscope.privacy.call_keys import open_unless_erased
from callscope.qa import evaluations, journeys
from callscope.qa.categories import categories_by_call
from callscope.qa.corrections import Label
from callscope.service.feed import (
    CUSTOMER_FEED_COLUMNS,
    call_time,
    customer_feed_rows,
    day_bounds,
    encode,
    feed_columns,
    feed_rows,
)
from callscope.service.feed import MEDIA_TYPES as FEED_MEDIA_TYPES
from callscope.store.db import Call, CallCategory, CallEmotion, CallTopic, Correction, Customer, Evaluation

router = APIRouter()
#: A filter on a metadata column: the longest value an upload may store (200 characters).
MetaFilter = Annotated[str | None, Query(max_length=200)]


def _list_filters(q, *, agent_id, team, queue, product, status, escalation, language, emotion, emotion_role,
                  emotion_min_share, date_from, date_to, category=None, reason=None, outcome=None, topic=None,
                  channel=None, customer=None, at_risk=None):
    for column, value in ((Call.agent_id, agent_id), (Call.team, team), (Call.queue, queue), (Call.product, product),
                          (Call.status, status), (Call.escalation, escalation), (Call.language, language),
                          (Call.reason, reason), (Call.outcome, outcome), (Call.channel, channel),
                          (Call.customer_key, customer)):
        if value is not None:
            q = q.where(column == value)
    if at_risk is not None:  # calls of customers at that churn-risk level or above
        q = q.where(exists().where(Customer.key == Call.customer_key, Customer.churn_risk >= journeys.FLOORS[at_risk]))
    if emotion is not None:
        q = q.where(exists().where(CallEmotion.call_id == Call.id, CallEmotion.role == emotion_role,
                                   CallEmotion.label == emotion, CallEmotion.share >= max(emotion_min_share, 1e-9)))
    if topic is not None:  # "<run id>.<topic key>"
        run_id, key = (int(p) for p in topic.split("."))
        q = q.where(exists().where(CallTopic.call_id == Call.id, CallTopic.run_id == run_id, CallTopic.topic == key))
    if category is not None:  # under the call's current rule-set version
        q = q.where(exists().where(CallCategory.call_id == Call.id, CallCategory.rules_version == Call.rules_version,
                                   CallCategory.category == category))
    if date_from:
        q = q.where(call_time() >= day_bounds(date_from)[0])
    if date_to:
        q = q.where(call_time() < day_bounds(date_to)[1])
    return q


#: Calls whose search words are opened per batch when the list is searched.
SEARCH_BATCH = 500


def _searched(session, filtered, search: str):
    """``filtered`` narrowed to the calls whose transcript holds ``search`` (case-insensitive). The
    words are sealed under each call's key, so the database cannot match them: they are opened
    here, batch by batch (bounded memory), and the matches passed back as one parameter."""
    needle, found, last = search.strip().lower(), [], ""
    while True:  # transcript_text is kept in lower case (Unicode-aware)
        rows = session.execute(filtered.with_only_columns(Call.id, Call.transcript_text)
                               .where(Call.id > last, Call.transcript_text.is_not(None))
                               .order_by(Call.id).limit(SEARCH_BATCH)).all()
        found += [cid for cid, words in rows if needle in (open_unless_erased(session, cid, "transcript_text", words) or "")]
        if len(rows) < SEARCH_BATCH:
            break
        last = rows[-1][0]
    if session.get_bind().dialect.name == "postgresql":
        ids = select(func.unnest(cast(found, ARRAY(String(36)))))
    else:
        ids = select(literal_column("value")).select_from(func.json_each(json.dumps(found)))
    return filtered.where(Call.id.in_(ids))


CONTEXT_CHARS = 60


def _match(session, c: Call, needle: str) -> dict | None:
    """Where in the call ``needle`` was first said, with the words around it (the sealed result is
    opened for the calls of the page only)."""
    text = open_unless_erased(session, c.id, "result_json", c.result_json) if c.result_json else None
    if not text:
        return None
    for i, u in enumerate(json.loads(text).get("utterances") or []):
        said = " ".join(str(u.get("text") or "").split())
        at = said.lower().find(needle)
        if at >= 0:
            end = at + len(needle)
            return {"utterance": i, "start": u.get("start") or 0.0, "before": said[max(0, at - CONTEXT_CHARS):at],
                    "words": said[at:end], "after": said[end:end + CONTEXT_CHARS], "link": f"/calls/{c.id}#u{i}"}
    return None


def _list_row(c: Call, filename: str, corrections: int, categories: list[str]) -> dict:
    return {"id": c.id, "filename": filename, "status": c.status, "stage": c.stage, "progress": c.progress,
            "external_id": c.external_id, "agent_id": c.agent_id, "team": c.team, "queue": c.queue,
            "product": c.product, "escalation": c.escalation, "customer_sentiment": c.customer_sentiment,
            "customer_sentiment_start": c.customer_sentiment_start, "customer_sentiment_end": c.customer_sentiment_end,
            "agent_talk_share": c.agent_talk_share, "duration_s": c.duration_s, "language": c.language,
            "recorded_at": c.recorded_at.isoformat() if c.recorded_at else None,
            "uploaded_at": c.created_at.isoformat() if c.created_at else None,
            "corrections": corrections, "categories": categories, "reason": c.reason, "outcome": c.outcome,
            "url": f"/v1/calls/{c.id}"}


@router.get("/v1/calls", response_model=CallListOut, responses={200: {"description": "a page of calls", "links": call_links("$response.body#/calls/0/id")}})
def list_calls(
    svc: Svc,
    who: Reader,
    agent_id: MetaFilter = None, team: MetaFilter = None, queue: MetaFilter = None, product: MetaFilter = None,
    status: str | None = Query(None, pattern="^(queued|running|done|failed|unsupported_language)$"),
    escalation: str | None = Query(None, pattern="^(green|yellow|orange|red)$"),
    language: Annotated[Language | None, Query(description="the call's language")] = None,
    emotion: Annotated[Label | None, Query(description="calls in which this role showed this emotion")] = None,
    emotion_role: Annotated[str, Query(pattern="^(customer|agent)$")] = "customer",
    emotion_min_share: Annotated[float, Query(ge=0.0, le=1.0, description="least share of the role's talk time with that emotion")] = 0.0,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the transcript (case-insensitive)")] = None,
    category: Annotated[str | None, Query(max_length=63, description="calls that matched this category (under their "
                                                                      "current rule-set version)")] = None,
    reason: Annotated[str | None, Query(max_length=63, description="calls with this contact reason ('other': none "
                                                                    "close)")] = None,
    outcome: Annotated[str | None, Query(pattern="^(resolved|not_resolved|follow_up|transferred|unknown)$")] = None,
    topic: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}\.[0-9]{1,9}$", description="calls in a topic: "
                                       "'<topic run id>.<topic key>' (the Topics page links them)")] = None,
    channel: MetaFilter = None,
    customer: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="one customer's calls (its pseudonym)")] = None,
    at_risk: Annotated[str | None, Query(pattern="^(low|medium|high)$", description="calls of customers at this churn-risk "
                                         "level or above (docs/journeys.md)")] = None,
    sort: Annotated[str, Query(pattern=SORT_PATTERN, description="uploaded, recorded, duration, sentiment (the "
                               "customer's mean) or level; '-' in front for descending")] = "-uploaded",
    limit: int = Query(50, ge=1, le=500),
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> dict:
    """Calls, filtered and sorted (newest upload first by default); ``next_cursor`` fetches the
    next page of the same filters and sort, ``total`` counts every call that matches. Each row
    carries the customer's sentiment start and end, the agent's talk share and the number of QA
    corrections; with ``q``, where the words were first said (``match``: the utterance, its start,
    the words around them and a link to that moment), each such read going into the access log."""
    check_days(date_from, date_to)
    if date_from and date_to and date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    filtered = _list_filters(select(Call), agent_id=agent_id, team=team, queue=queue, product=product, status=status,
                             escalation=escalation, language=language, emotion=emotion, emotion_role=emotion_role,
                             emotion_min_share=emotion_min_share, date_from=date_from, date_to=date_to,
                             category=category, reason=reason, outcome=outcome, topic=topic, channel=channel,
                             customer=customer, at_risk=at_risk)
    n_corrections = select(func.count()).where(Correction.call_id == Call.id).correlate(Call).scalar_subquery()
    with svc.sessions() as s:
        if q and q.strip():
            filtered = _searched(s, filtered, q)
        page_q = order(filtered.add_columns(n_corrections), sort, cursor).limit(limit + 1)
        rows = s.execute(page_q).all()
        total = s.execute(select(func.count()).select_from(filtered.with_only_columns(Call.id).subquery())).scalar_one()
        page = rows[:limit]
        matched = categories_by_call(s, [c for c, _ in page])
        names = {c.id: open_unless_erased(s, c.id, "filename", c.filename) for c, _ in page}
        needle = " ".join(q.split()).lower() if q and q.strip() else ""
        found = {c.id: m for c, _ in page if needle and (m := _match(s, c, needle)) is not None}
    for call_id in found:  # the words around a match are a read of the transcript
        access_log.record(svc.sessions, who, call_id, "transcript")
    rows_out = [_list_row(c, name, n, matched.get(c.id, [])) for c, n in page if (name := names[c.id]) is not None]
    for r in rows_out:
        if r["id"] in found:
            r["match"] = found[r["id"]]
    return {  # a call erased since the page was read is left out
        "calls": rows_out,
        "total": total,
        "next_cursor": cursor_after(page[-1][0], sort) if len(rows) > limit else None,
    }


GROUPS = {"agent": Call.agent_id, "team": Call.team, "queue": Call.queue, "product": Call.product,
          "reason": Call.reason, "outcome": Call.outcome, "channel": Call.channel}


def _share(part, whole) -> float | None:
    return None if not whole else round(int(part or 0) / int(whole), 4)


def _aggregate(sessions: sessionmaker, group_by: str, start: datetime, end: datetime) -> dict[str, dict]:
    # the session's zone is UTC on PostgreSQL and times are stored in UTC on SQLite
    key = func.substr(func.cast(call_time(), String), 1, 10) if group_by == "day" else GROUPS[group_by]
    levels = {lvl: func.sum(case((Call.escalation == lvl, 1), else_=0)) for lvl in ("green", "yellow", "orange", "red")}
    journey = (func.count(Call.customer_key), func.sum(case((Call.repeat_of.is_not(None), 1), else_=0)),
               func.count(Call.fcr), func.sum(case((Call.fcr.is_(True), 1), else_=0)),
               func.count(Call.recovered), func.sum(case((Call.recovered.is_(True), 1), else_=0)))
    q = (select(key, func.count(), func.avg(Call.customer_sentiment), func.avg(Call.agent_talk_share),
                func.avg(Call.silence_share), *journey, *levels.values())
         .where(Call.status == "done", call_time() >= start, call_time() < end).group_by(key))
    out = {}
    with sessions() as s:
        for row in s.execute(q):
            n = row[1]
            out[str(row[0]) if row[0] is not None else "(none)"] = {
                "calls": n,
                "mean_customer_sentiment": None if row[2] is None else round(float(row[2]), 4),
                "mean_agent_talk_share": None if row[3] is None else round(float(row[3]), 4),
                "mean_silence_share": None if row[4] is None else round(float(row[4]), 4),
                "escalation_share": {lvl: round(int(v or 0) / n, 4) for lvl, v in zip(levels, row[11:])},
                "categories": {},
                "with_customer": int(row[5]), "repeat_rate": _share(row[6], row[5]),
                "fcr_known": int(row[7]), "fcr_rate": _share(row[8], row[7]),
                "recovery_known": int(row[9]), "recovery_rate": _share(row[10], row[9]),
            }
        per_category = (select(key, CallCategory.category, func.count())
                        .join(CallCategory, (CallCategory.call_id == Call.id)
                              & (CallCategory.rules_version == Call.rules_version))
                        .where(Call.status == "done", call_time() >= start, call_time() < end)
                        .group_by(key, CallCategory.category))
        for group, name, n in s.execute(per_category):
            group = str(group) if group is not None else "(none)"
            if group in out:
                out[group]["categories"][name] = int(n)
        evaluated = (select(key, Call.id).join(Evaluation, Evaluation.call_id == Call.id)
                     .where(Call.status == "done", call_time() >= start, call_time() < end,
                            Evaluation.calibration_id.is_(None), Evaluation.state.in_(evaluations.COUNTED)).distinct())
        groups_of: dict[str, list[str]] = {}
        for group, call_id in s.execute(evaluated):
            groups_of.setdefault(str(group) if group is not None else "(none)", []).append(call_id)
        for group, g in out.items():
            ids = groups_of.get(group, [])
            outcomes = [o for k in range(0, len(ids), 500)
                        for o in evaluations.latest_submitted(s, ids[k:k + 500]).values()]
            g.update(evaluations.summarise(outcomes))
    return out


@router.get("/v1/aggregates", response_model=AggregatesOut)
def aggregates(
    svc: Svc,
    _who: Reader,
    group_by: Annotated[str, Query(pattern="^(agent|team|queue|day|product|reason|outcome|channel)$")],
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to", description="inclusive")],
) -> dict:
    """Per group: call count, mean customer sentiment, agent talk share, silence share, share per
    escalation level (QA corrections applied), calls per category (under each call's current
    rule-set version), evaluations (submitted and on: their count, mean score 0..100 and mean points
    per form question 0..1), the journeys (contacts with a customer pseudonym, repeat-contact rate,
    first-contact resolution rate over the first contacts whose FCR is known, recovery rate over the
    orange/red contacts followed by another; docs/journeys.md), and the change in mean customer
    sentiment, FCR and repeat rate against the previous period of the same length."""
    check_days(date_from, date_to)
    if date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    days = (date_to - date_from).days + 1
    if start - timedelta(days=days) < day_bounds(FIRST_DAY)[0]:
        raise HTTPException(400, f"the previous period would start before {FIRST_DAY.isoformat()}")
    current = _aggregate(svc.sessions, group_by, start, end)
    previous = _aggregate(svc.sessions, group_by, start - timedelta(days=days), start)
    for name, g in current.items():
        before = previous.get(name, {}).get("mean_customer_sentiment")
        now = g["mean_customer_sentiment"]
        g["previous_mean_customer_sentiment"] = before
        g["trend"] = None if before is None or now is None else round(now - before, 4)
        for rate in ("fcr_rate", "repeat_rate", "recovery_rate"):
            then, current_rate = previous.get(name, {}).get(rate), g[rate]
            g[f"{rate}_trend"] = None if then is None or current_rate is None else round(current_rate - then, 4)
    return {"group_by": group_by, "from": date_from.isoformat(), "to": date_to.isoformat(), "groups": current}


@router.get("/v1/feeds/daily", response_class=StreamingResponse,
            responses={200: {"description": "one row per call of the day; columns in X-Feed-Columns",
                             "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in FEED_MEDIA_TYPES.values()}}})
def daily_feed(
    svc: Svc,
    _who: Reader,
    day: Annotated[date, Query(alias="date")],
    format: str = Query("ndjson", pattern="^(ndjson|csv|parquet)$"),
    bom: Annotated[bool, Query(description="CSV only: start with a UTF-8 byte-order mark (for Excel)")] = False,
) -> StreamingResponse:
    """The day's call-score feed (UTC day of the call, QA corrections applied), streamed;
    columns: see ``X-Feed-Columns`` (the last ones: the call's evaluation, ``evaluation_score``
    0..100, its form and state, and ``eval_<question>`` answers for the active forms' questions). Text is UTF-8; numbers use a decimal point."""
    check_days(day)
    columns = feed_columns(svc.sessions)
    return _feed_response(feed_rows(svc.sessions, day), columns, format, bom, f"callscope-{day.isoformat()}")


def _feed_response(rows, columns, format: str, bom: bool, name: str) -> StreamingResponse:
    """A feed streamed in ``format``, its columns in ``X-Feed-Columns``, saved as ``name.<format>``."""
    return StreamingResponse(encode(rows, format, bom=bom, columns=columns), media_type=FEED_MEDIA_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}.{format}"',
                                      "X-Feed-Columns": ",".join(columns)})


@router.get("/v1/feeds/customers", response_class=StreamingResponse,
            responses={200: {"description": "one row per customer with a contact that day; columns in X-Feed-Columns",
                             "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in FEED_MEDIA_TYPES.values()}}})
def customer_feed(
    svc: Svc,
    _who: Reader,
    day: Annotated[date, Query(alias="date")],
    format: str = Query("ndjson", pattern="^(ndjson|csv|parquet)$"),
    bom: Annotated[bool, Query(description="CSV only: start with a UTF-8 byte-order mark (for Excel)")] = False,
) -> StreamingResponse:
    """The day's customer-level feed: one row per customer pseudonym with an analysed contact on
    that UTC day: that day's contacts, all contacts, first and last contact, repeat contacts,
    recoveries, churn risk 0..1, its level and the signals seen (docs/journeys.md). Pseudonyms
    only: no identifier is stored."""
    check_days(day)
    return _feed_response(customer_feed_rows(svc.sessions, day), CUSTOMER_FEED_COLUMNS, format, bom,
                          f"callscope-customers-{day.isoformat()}")
