"""The nightly call-score feed: one row per analysed call, stable columns, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from callscope.qa import evaluations
from callscope.qa.categories import categories_by_call
from callscope.store.db import Call, Correction, Customer, RuleSetRow

#: Feed columns, in order. New columns are only ever appended.
FEED_COLUMNS = (
    "call_id", "external_id", "call_time", "agent_id", "team", "queue", "product", "channel", "duration_s",
    "escalation", "customer_sentiment", "customer_sentiment_start", "customer_sentiment_end", "agent_sentiment",
    "agent_talk_share", "silence_share", "overlap_s", "interruptions", "qa_corrections",
    "role_confidence", "role_note", "direction", "language", "language_confidence",
    "customer_ref", "phone_ref", "categories", "rules_version", "transcript_reliability",
    "evaluation_score", "evaluation_form", "evaluation_state", "reason", "outcome",
    "customer_pseudonym", "repeat_of", "days_since_previous_contact", "fcr", "recovered", "churn_risk",
)
#: then one column per question of the active evaluation forms: ``eval_<question id>``, its answer
EVAL_PREFIX = "eval_"
FEED_FORMATS = ("ndjson", "csv", "parquet")
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8",
               "parquet": "application/vnd.apache.parquet"}


def call_time():
    """When the call happened: its ``recorded_at``, else when it was uploaded."""
    return func.coalesce(Call.recorded_at, Call.created_at)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _row(c: Call, corrections: int, categories: list[str] | None = None, rules: str | None = None) -> dict:
    when = c.recorded_at or c.created_at
    if when is not None and when.tzinfo is None:  # SQLite keeps no zone; every time stored is UTC
        when = when.replace(tzinfo=UTC)
    return {
        "call_id": c.id, "external_id": c.external_id, "call_time": when.isoformat() if when else None,
        "agent_id": c.agent_id, "team": c.team, "queue": c.queue, "product": c.product, "channel": c.channel,
        "duration_s": c.duration_s, "escalation": c.escalation, "customer_sentiment": c.customer_sentiment,
        "customer_sentiment_start": c.customer_sentiment_start, "customer_sentiment_end": c.customer_sentiment_end,
        "agent_sentiment": c.agent_sentiment, "agent_talk_share": c.agent_talk_share,
        "silence_share": c.silence_share, "overlap_s": c.overlap_s, "interruptions": c.interruptions,
        "qa_corrections": corrections,
        "role_confidence": c.role_confidence, "role_note": c.role_note, "direction": c.direction,
        "language": c.language, "language_confidence": c.language_confidence,
        "customer_ref": c.customer_ref, "phone_ref": c.phone_ref,
        "categories": ";".join(categories or []), "rules_version": rules,
        "transcript_reliability": c.transcript_reliability, "reason": c.reason, "outcome": c.outcome,
        "customer_pseudonym": c.customer_key, "repeat_of": c.repeat_of, "days_since_previous_contact": c.days_since_previous,
        "fcr": c.fcr, "recovered": c.recovered,
    }


def feed_rows(sessions: sessionmaker, day: date, batch: int = 500) -> Iterator[dict]:
    """Rows of the calls analysed (status done) whose call time falls on ``day`` (UTC), in a
    stable order, read in batches so a large day never sits in memory at once. Score columns
    carry QA corrections; ``qa_corrections`` counts them (0: as analysed)."""
    start, end = day_bounds(day)
    n_corrections = select(func.count()).where(Correction.call_id == Call.id).correlate(Call).scalar_subquery()
    last: tuple | None = None
    while True:
        with sessions() as s:
            q = select(Call, n_corrections).where(Call.status == "done", call_time() >= start, call_time() < end)
            if last is not None:
                q = q.where((call_time() > last[0]) | ((call_time() == last[0]) & (Call.id > last[1])))
            rows = s.execute(q.order_by(call_time(), Call.id).limit(batch)).all()
        if not rows:
            return
        with sessions() as s:
            matched = categories_by_call(s, [c for c, _ in rows])
            labels = {v: f"rules/{v}+{d}" for v, d in s.execute(select(RuleSetRow.version, RuleSetRow.digest))}
            evaluated = evaluations.latest_submitted(s, [c.id for c, _ in rows])
            keys = {c.customer_key for c, _ in rows if c.customer_key}
            risk = {k: v for k, v in s.execute(select(Customer.key, Customer.churn_risk).where(Customer.key.in_(keys)))}
        for c, n in rows:
            row = _row(c, n, matched.get(c.id, []), labels.get(c.rules_version))
            row["churn_risk"] = risk.get(c.customer_key)
            ev = evaluated.get(c.id)
            row.update(evaluation_score=ev.score if ev else None, evaluation_form=ev.form if ev else None,
                       evaluation_state=ev.state if ev else None)
            for qid, answer in (ev.answers if ev else {}).items():
                row[EVAL_PREFIX + qid] = answer
            yield row
        c = rows[-1][0]
        last = (c.recorded_at or c.created_at, c.id)


#: The daily customer-level feed's columns (one row per customer with a contact that day).
CUSTOMER_FEED_COLUMNS = (
    "day", "customer_pseudonym", "contacts_that_day", "contacts", "first_contact_at", "last_contact_at",
    "repeat_contacts", "recoveries", "churn_risk", "churn_level", "churn_signals",
)


def customer_feed_rows(sessions: sessionmaker, day: date, batch: int = 1000) -> Iterator[dict]:
    """One row per customer pseudonym with an analysed contact on ``day`` (UTC): that day's
    contacts, the journey's counts, churn risk, level and the signals seen; in pseudonym order,
    read in batches."""
    start, end = day_bounds(day)
    last = ""
    while True:
        with sessions() as s:
            q = (select(Call.customer_key, func.count(), Customer)
                 .join(Customer, Customer.key == Call.customer_key)
                 .where(Call.status == "done", call_time() >= start, call_time() < end, Call.customer_key > last)
                 .group_by(Call.customer_key, Customer.key).order_by(Call.customer_key).limit(batch))
            rows = s.execute(q).all()
        if not rows:
            return
        for key, n, c in rows:
            yield {"day": day.isoformat(), "customer_pseudonym": key, "contacts_that_day": int(n), "contacts": c.contacts,
                   "first_contact_at": c.first_contact_at.isoformat() if c.first_contact_at else None,
                   "last_contact_at": c.last_contact_at.isoformat() if c.last_contact_at else None,
                   "repeat_contacts": c.repeat_contacts, "recoveries": c.recoveries, "churn_risk": c.churn_risk,
                   "churn_level": c.churn_level,
                   "churn_signals": ";".join(e["signal"] for e in json.loads(c.churn_evidence))}
        last = rows[-1][0]


def feed_columns(sessions: sessionmaker) -> list[str]:
    """The feed's columns: :data:`FEED_COLUMNS`, then ``eval_<id>`` for every question of the
    active evaluation forms (in their order; a question two forms share is one column)."""
    with sessions() as s:
        return list(FEED_COLUMNS) + [EVAL_PREFIX + q for q in evaluations.active_question_ids(s)]


def _parquet_schema(columns: Sequence[str] = FEED_COLUMNS):
    import pyarrow as pa

    text, number = pa.string(), pa.float64()
    types = {"call_time": pa.timestamp("us", tz="UTC"), "interruptions": pa.int32(), "qa_corrections": pa.int32(),
             "contacts_that_day": pa.int32(), "contacts": pa.int32(), "repeat_contacts": pa.int32(),
             "recoveries": pa.int32()}
    for name in ("duration_s", "customer_sentiment", "customer_sentiment_start", "customer_sentiment_end",
                 "agent_sentiment", "agent_talk_share", "silence_share", "overlap_s", "role_confidence",
                 "language_confidence", "transcript_reliability", "evaluation_score", "days_since_previous_contact",
                 "churn_risk"):
        types[name] = number
    types.update(fcr=pa.bool_(), recovered=pa.bool_())
    return pa.schema([(c, types.get(c, text)) for c in columns])


class _Drain(io.RawIOBase):
    """A write-only file whose bytes are taken out as they come, so Parquet can be streamed."""

    def __init__(self) -> None:
        super().__init__()
        self._buf, self._pos = bytearray(), 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._buf += b
        self._pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


def _parquet(rows: Iterator[dict], batch: int, columns: Sequence[str] = FEED_COLUMNS) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, sink = _parquet_schema(columns), _Drain()
    writer = pq.ParquetWriter(sink, schema)
    chunk: list[dict] = []

    def flush() -> bytes:
        for r in chunk:
            if "call_time" in r:
                r["call_time"] = datetime.fromisoformat(r["call_time"]) if r["call_time"] else None
        writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
        chunk.clear()
        return sink.take()

    for r in rows:
        chunk.append(r)
        if len(chunk) >= batch:
            yield flush()
    if chunk:
        yield flush()
    writer.close()
    yield sink.take()


def encode(rows: Iterator[dict], fmt: str, parquet_row_group: int = 5000, bom: bool = False,
           columns: Sequence[str] = FEED_COLUMNS) -> Iterator[bytes]:
    """``rows`` as NDJSON lines, CSV (UTF-8 with a header; ``bom``: led by a byte-order mark, so
    Excel reads å, ä, ö, æ, ø as such) or Parquet (one row group per ``parquet_row_group`` rows;
    typed columns, ``call_time`` a UTC timestamp), chunk by chunk."""
    if fmt == "ndjson":
        for r in rows:
            yield (json.dumps(r) + "\n").encode()
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        yield ("\ufeff" if bom else "").encode() + buf.getvalue().encode()
        for r in rows:
            buf.seek(0)
            buf.truncate()
            writer.writerow(r)
            yield buf.getvalue().encode()
        return
    if fmt == "parquet":
        yield from _parquet(rows, parquet_row_group, columns)
        return
    raise ValueError(f"unknown feed format {fmt!r}; choose one of {', '.join(FEED_FORMATS)}")
