"""Search by meaning over the utterances of every stored call, in any supported language.

**What is stored** (:func:`store`, when a worker analyses a call or re-scoring computes its
insight again): every utterance's sentence vector (multilingual e5, the one the insight modules
already computed, so storing costs no encoding) quantised to int8 and **sealed** under the call's
key (``search_vectors``), and every non-empty utterance's 256-bit sign code **in the clear**
(``search_codes``, :mod:`callscope.scoring.insight.search_codes`). Erasure deletes both.

**How a query runs** (:func:`search`): the query is embedded with the same encoder; an
in-process index (:class:`CodeIndex`, one per database and process, loaded incrementally from
``search_codes``: 32 bytes and 8 bytes of ids per utterance, about 40 MB for a million
utterances) ranks every utterance of the calls the filters allow by Hamming distance to the
query's code; the calls of the best :data:`CANDIDATES` utterances are opened (their sealed
vectors) and ranked exactly by cosine similarity, the best utterance of each call kept. The
same index runs on SQLite and PostgreSQL: Debian bookworm ships no pgvector package, and the
codes need no extension.

Results are utterances, not text: the caller opens the transcript of the calls it shows (and
logs that read).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from callscope.privacy.call_keys import open_unless_erased, seal_value
from callscope.scoring.insight import search_codes as C
from callscope.store.db import Call, SearchCode, SearchVectors

#: Utterances ranked by code whose calls are opened and ranked exactly.
CANDIDATES = 5000
#: At most this many calls are opened per query (those holding the best candidates; about
#: 0.1 ms each).
MAX_CALLS_OPENED = 1000
#: Rows read from ``search_codes`` per batch when the index loads.
LOAD_BATCH = 100_000
#: Deleted rows (erased or re-analysed calls) the index tolerates before it reloads, as a share.
STALE_SHARE = 0.1
#: Seconds between counts of the stored codes (to notice deletions; new rows are read every query).
COUNT_EVERY_S = 30.0


@dataclass(frozen=True)
class Hit:
    """An utterance found: its call, index in the transcript, and cosine similarity (-1..1) to
    the query."""

    call_id: str
    utterance: int
    similarity: float


@dataclass(frozen=True)
class Found:
    """A search's hits (best first) and what it looked at."""

    hits: list[Hit]
    utterances_ranked: int  # utterances of allowed calls ranked by code
    calls_opened: int


def store(session: Session, call_id: str, vectors: np.ndarray, texts: list[str], encoder: str) -> None:
    """Replace a call's search rows with ``vectors`` (one unit vector per utterance; blank
    utterances get no code). The caller commits."""
    session.execute(delete(SearchCode).where(SearchCode.call_id == call_id))
    session.execute(delete(SearchVectors).where(SearchVectors.call_id == call_id))
    if len(vectors) == 0:
        return
    blank = np.array([not (t and t.strip()) for t in texts])
    vectors = np.where(blank[:, None], 0.0, vectors)  # a blank utterance is never the best of its call
    session.execute(insert(SearchVectors), [{
        "call_id": call_id, "version": f"{encoder}+{C.VERSION}"[:200], "utterances": len(vectors),
        "vectors": seal_value(session, call_id, "search.vectors", C.pack_vectors(vectors))}])
    packed = C.codes(vectors)
    rows = [{"call_id": call_id, "utterance": i, "code": packed[i].tobytes()}
            for i, text in enumerate(texts) if text and text.strip()]
    if rows:
        session.execute(insert(SearchCode), rows)


@dataclass(frozen=True)
class _Snapshot:
    words: np.ndarray  # (n, 4) uint64 codes
    row_call: np.ndarray  # (n,) int32 index into call_ids
    row_utterance: np.ndarray  # (n,) int32
    call_ids: list[str]
    call_pos: dict[str, int]


class CodeIndex:
    """The codes of one database, kept in this process and topped up before each query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._last_id = 0
        self._counted_at = time.monotonic()
        self._snap = _Snapshot(np.zeros((0, C.CODE_BYTES // 8), np.uint64), np.zeros(0, np.int32),
                               np.zeros(0, np.int32), [], {})

    def refresh(self, session: Session) -> _Snapshot:
        """Load the rows added since the last call (all of them when too many were deleted)."""
        with self._lock:
            held = len(self._snap.row_call)
            if held and time.monotonic() - self._counted_at > COUNT_EVERY_S:
                in_db = session.execute(select(func.count()).select_from(SearchCode)).scalar_one()
                self._counted_at = time.monotonic()
                if held - in_db > max(1000, STALE_SHARE * held) or in_db == 0:
                    self._reset()  # reload: erased and re-analysed calls' rows leave memory
            snap = self._snap
            call_ids, call_pos = list(snap.call_ids), dict(snap.call_pos)
            words, row_call, row_utt = [snap.words], [snap.row_call], [snap.row_utterance]
            while True:
                rows = session.execute(select(SearchCode.id, SearchCode.call_id, SearchCode.utterance, SearchCode.code)
                                       .where(SearchCode.id > self._last_id).order_by(SearchCode.id)
                                       .limit(LOAD_BATCH)).all()
                if not rows:
                    break
                positions = np.empty(len(rows), np.int32)
                for k, (_, call_id, _, _) in enumerate(rows):
                    pos = call_pos.get(call_id)
                    if pos is None:
                        pos = call_pos[call_id] = len(call_ids)
                        call_ids.append(call_id)
                    positions[k] = pos
                codes = np.frombuffer(b"".join(bytes(r[3]) for r in rows), np.uint8).reshape(len(rows), C.CODE_BYTES)
                words.append(C.as_words(codes))
                row_call.append(positions)
                row_utt.append(np.fromiter((r[2] for r in rows), np.int32, len(rows)))
                self._last_id = rows[-1][0]
                if len(rows) < LOAD_BATCH:
                    break
            if len(words) > 1:
                self._snap = _Snapshot(np.concatenate(words), np.concatenate(row_call), np.concatenate(row_utt),
                                       call_ids, call_pos)
            return self._snap


_indexes: dict[str, CodeIndex] = {}
_indexes_lock = threading.Lock()


def index_for(session: Session) -> CodeIndex:
    """This process's index of the session's database."""
    bind = session.get_bind()
    url = bind.engine.url.render_as_string(hide_password=True)
    with _indexes_lock:
        return _indexes.setdefault(url, CodeIndex())


def search(session: Session, query_vector: np.ndarray, allowed, limit: int = 20) -> Found:
    """The utterances nearest in meaning to ``query_vector`` (unit, 384), at most one per call,
    among the calls that ``allowed`` (a select of ``Call`` rows: the list's filters) returns, or
    among all searchable calls when ``allowed`` is None."""
    snap = index_for(session).refresh(session)
    if len(snap.row_call) == 0:
        return Found([], 0, 0)
    if allowed is None:  # every indexed call; an erased one has no vectors left to open below
        rows = np.arange(len(snap.row_call))
        words = snap.words
    else:
        allowed_calls = np.zeros(len(snap.call_ids), bool)
        for call_id in session.execute(allowed.with_only_columns(Call.id)).scalars():
            pos = snap.call_pos.get(call_id)
            if pos is not None:
                allowed_calls[pos] = True
        rows = np.flatnonzero(allowed_calls[snap.row_call])
        words = snap.words[rows]
    if len(rows) == 0:
        return Found([], 0, 0)
    qcode = C.as_words(C.codes(query_vector[None, :]))[0]
    distance = C.hamming(qcode, words)
    if len(rows) > CANDIDATES:
        best = np.argpartition(distance, CANDIDATES - 1)[:CANDIDATES]
    else:
        best = np.arange(len(rows))
    best = best[np.argsort(distance[best], kind="stable")]
    calls: list[str] = []
    seen: set[int] = set()
    for pos in snap.row_call[rows[best]]:
        if int(pos) not in seen:
            seen.add(int(pos))
            calls.append(snap.call_ids[pos])
            if len(calls) >= MAX_CALLS_OPENED:
                break
    hits = []
    for call_id, stored in session.execute(select(SearchVectors.call_id, SearchVectors.vectors)
                                           .where(SearchVectors.call_id.in_(calls))):
        plain = open_unless_erased(session, call_id, "search.vectors", stored)
        if not plain:
            continue
        sims = C.unpack_vectors(plain) @ query_vector.astype(np.float32)
        u = int(np.argmax(sims))
        hits.append(Hit(call_id, u, round(float(sims[u]), 4)))
    hits.sort(key=lambda h: (-h.similarity, h.call_id))
    return Found(hits[:limit], len(rows), len(calls))


def searchable_calls(session: Session) -> int:
    """Calls with stored search vectors."""
    return session.execute(select(func.count()).select_from(SearchVectors)).scalar_one()


def query_vector(text: str) -> np.ndarray:
    """The query's unit vector (the insight modules' encoder, loaded in this process on first use)."""
    from callscope.qa.insights import reader

    return reader().encoder.encode([" ".join(text.split())])[0].astype(np.float32)


def method() -> str:
    """What results are ranked with: the encoder's method version and the code version."""
    from callscope.qa.insights import method_version

    return f"{method_version()}+{C.VERSION}"
