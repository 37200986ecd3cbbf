"""Backfill results as files: one JSON per call (exactly what ``callscope analyze --format json``
writes), beside it the recording's source and metadata, and one Parquet feed of call scores.

Layout under ``--out DIR``::

    calls/ab/<key>.source.json   where the recording came from: path, SHA-256, external id, metadata
    calls/ab/<key>.json          the analysis; written last, atomically: its presence means done
    scores.parquet               one row per analysed call (rewritten at the end of every run)

A key is the content SHA-256 plus a hash of the external id (:func:`~callscope.backfill.source.key_of`),
so a call is stored once however often it is analysed, and a re-run skips the calls whose JSON
exists. Customer ids and phone numbers in a manifest are kept only as keyed hashes, as the
service keeps them.
"""

from __future__ import annotations

import json
from pathlib import Path

from callscope.analysis.formats import to_json, write_atomic
from callscope.analysis.schema import CallAnalysis
from callscope.service.intake import UploadMeta

#: The feed's columns, in order: the recording, its metadata, then the call scores.
FEED_COLUMNS = (
    "key", "sha256", "external_id", "source", "recorded_at", "agent_id", "team", "queue", "product", "channel",
    "customer_ref", "phone_ref", "duration_s", "escalation", "escalation_confidence", "customer_sentiment",
    "customer_sentiment_start", "customer_sentiment_end", "agent_sentiment", "agent_talk_share", "silence_share",
    "overlap_s", "interruptions", "role_confidence", "role_note", "direction", "language", "language_confidence",
    "model", "schema_version", "status", "transcript_reliability",
)


class FileSink:
    """Writes results under ``out``; ``secret`` keys the hashes of customer ids and phone numbers."""

    def __init__(self, out: Path, secret: bytes | None = None) -> None:
        self.out = out
        self.calls = out / "calls"
        self.calls.mkdir(parents=True, exist_ok=True)
        self.secret = secret
        self.feed_path = out / "scores.parquet"
        self._rows: list[dict] = []
        self._batches: list = []  # pyarrow Tables of BATCH_ROWS rows

    def _base(self, key: str) -> Path:
        return self.calls / key[:2] / key

    def is_done(self, key: str) -> bool:
        return self._base(key).with_suffix(".json").is_file()

    def source_record(self, key: str, sha256: str, path: Path, meta: UploadMeta) -> dict:
        from callscope.privacy.pseudonyms import pseudonym

        fields = meta.model_dump(mode="json", exclude_none=True, exclude={"customer_id", "customer_phone"})
        if self.secret is not None and meta.customer_id:
            fields["customer_ref"] = pseudonym(self.secret, "customer_id", meta.customer_id)
        if self.secret is not None and meta.customer_phone:
            fields["phone_ref"] = pseudonym(self.secret, "phone", meta.customer_phone)
        return {"key": key, "sha256": sha256, "source": str(path), "meta": fields}

    def write(self, key: str, sha256: str, path: Path, meta: UploadMeta, result: CallAnalysis) -> Path:
        """Store one call's analysis (source record first, the analysis last); its JSON path. Its
        feed row is kept (in Arrow batches) for :meth:`write_feed`."""
        base = self._base(key)
        base.parent.mkdir(parents=True, exist_ok=True)
        record = self.source_record(key, sha256, path, meta)
        write_atomic(base.with_suffix(".source.json"), json.dumps(record) + "\n")
        target = base.with_suffix(".json")
        write_atomic(target, to_json(result))
        self._rows.append(_feed_row(record, result))
        if len(self._rows) >= BATCH_ROWS:
            self._batches.append(_table(self._rows))
            self._rows = []
        return target

    def _row_from_files(self, key: str) -> dict:
        base = self._base(key)
        record = json.loads(base.with_suffix(".source.json").read_text(encoding="utf-8"))
        return _feed_row(record, CallAnalysis.model_validate_json(base.with_suffix(".json").read_text(encoding="utf-8")))

    def done_keys(self) -> list[str]:
        """Every call stored under ``out`` (this run's and earlier runs'), sorted."""
        return sorted(p.name.removesuffix(".json") for p in self.calls.glob("??/*.json")
                      if not p.name.endswith(".source.json"))

    def write_feed(self) -> int:
        """(Re)write ``scores.parquet``: one row per stored call, sorted by key. This run's rows
        come from memory, earlier runs' from the previous feed; only a call in neither (stored by
        a run that crashed before its feed was written) is read back from its JSON. Returns the
        number of rows."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        keys = self.done_keys()
        parts = [*self._batches, _table(self._rows)]
        new_keys = {k for t in parts for k in t.column("key").to_pylist()}
        if self.feed_path.is_file():
            try:
                old = pq.read_table(self.feed_path)
                if old.schema.equals(FEED_SCHEMA):
                    still = pa.array(sorted(set(keys) - new_keys), pa.string())
                    parts.append(old.filter(pc.is_in(old.column("key"), value_set=still)))
            except Exception:  # noqa: BLE001 - an unreadable old feed is rebuilt from the JSON files
                pass
        have = {k for t in parts for k in t.column("key").to_pylist()}
        parts.append(_table([self._row_from_files(k) for k in keys if k not in have]))
        table = pa.concat_tables(parts).sort_by("key")
        tmp = self.feed_path.with_name(f".{self.feed_path.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(self.feed_path)
        return table.num_rows


#: Feed rows are kept in Arrow tables of this many rows while a run goes (a few hundred bytes a row).
BATCH_ROWS = 10_000
_FLOATS = frozenset({"duration_s", "escalation_confidence", "customer_sentiment", "customer_sentiment_start",
                     "customer_sentiment_end", "agent_sentiment", "agent_talk_share", "silence_share", "overlap_s",
                     "role_confidence", "language_confidence", "transcript_reliability"})


def _schema():
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c in _FLOATS else pa.int64() if c == "interruptions" else pa.string())
                      for c in FEED_COLUMNS])


FEED_SCHEMA = _schema()


def _table(rows: list[dict]):
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=FEED_SCHEMA)


def _feed_row(record: dict, result: CallAnalysis) -> dict:
    """The feed row of a call from its source record (:meth:`FileSink.source_record`) and analysis."""
    from callscope.store.call_columns import score_columns

    meta = record["meta"]
    row = {"key": record["key"], "sha256": record["sha256"], "source": record["source"], "model": result.model,
           "schema_version": result.schema_version, "status": result.status,
           **{k: meta.get(k) for k in ("external_id", "recorded_at", "agent_id", "team", "queue", "product", "channel",
                                       "customer_ref", "phone_ref")}}
    scores = score_columns(result)
    row.update({k: scores[k] for k in FEED_COLUMNS if k in scores})
    return {k: row.get(k) for k in FEED_COLUMNS}
