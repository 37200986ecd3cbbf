"""Search by meaning and topic discovery at 100,000 stored calls, on SQLite and PostgreSQL.

The calls are made of real sentences, embedded by the real encoder: each call holds one
customer problem statement (a banking77 *training* query, CC BY 4.0, PolyAI-LDN/task-specific-
datasets @ 57ec275d) and ``--per-call - 1`` everyday conversational lines (DailyDialog, liuzeming01/
XDailyDialog @ 62949b52, CC BY-NC-SA 4.0, evaluation only), over 30 days, 50 agents. Each call
is stored as the service stores it: its transcript (sealed), its search vectors (int8, sealed)
and codes, and its insight row with the problem vector (sealed). No label is used or made.

Measured, one run per backend, on a real ``callscope serve --no-worker``:

* ``GET /v1/search`` over every call (the first query loads the index: reported alone), with an
  agent filter (about 2,000 calls) and with a 7-day window; p50/p95 over ``--queries`` banking77
  *test* queries; the API process's resident memory after the index is loaded;
* recall@10: the share of the 10 calls returned that are among the 10 nearest by exact cosine
  similarity (each call's best utterance, float vectors; ties counted as found);
* ``callscope topics`` over the last day and the last 7 days (each against the 7 days before):
  wall time and peak resident memory of the process (per-day sampling bounds what it reads).

    .venv/bin/python benchmarks/insight_scale.py [--calls 100000] [--per-call 10] [--queries 50]
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402
from tests.support.postgres import benchmark_database  # noqa: E402
from tests.support.server import Service, admin_key  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DAYS = 30


def _banking(split: str) -> list[str]:
    with open(DATA / "text" / "banking77" / f"{split}.csv", newline="", encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)]


def _everyday(n: int) -> list[str]:
    lines = []
    with open(DATA / "text" / "dailydialog" / "dialogues_text_En.txt", encoding="utf-8") as f:
        for dialogue in f:
            for u in dialogue.split("__eou__"):
                u = re.sub(r"\s+([?.!,’'])", r"\1", " ".join(u.split())).replace("’ ", "’")
                if len(u.split()) >= 3:
                    lines.append(u)
            if len(lines) >= n:
                break
    return lines[:n]


def pool(cache: Path) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Problem statements and everyday lines with their vectors (cached in ``cache``)."""
    problems, everyday = _banking("train"), _everyday(10_000)
    if cache.exists():
        got = np.load(cache)
        return problems, got["p"], everyday, got["e"]
    from callscope.scoring.insight.vectors import shared_encoder

    enc = shared_encoder()
    t0 = time.perf_counter()
    p = np.concatenate([enc.encode(problems[k:k + 256]) for k in range(0, len(problems), 256)])
    e = np.concatenate([enc.encode(everyday[k:k + 256]) for k in range(0, len(everyday), 256)])
    print(f"encoded {len(problems) + len(everyday)} sentences in {time.perf_counter() - t0:.0f} s", flush=True)
    np.savez(cache, p=p, e=e)
    return problems, p, everyday, e


def build(url: str, data_dir: Path, n: int, per_call: int, last_day: date, texts) -> tuple[np.ndarray, list[str], list[str]]:
    """Store the calls; returns each call's sentence indices (n, per_call: 0 = its problem, an
    index into the problems; the rest into the everyday lines, offset by the number of problems),
    the call ids and their agents."""
    from sqlalchemy import insert, select

    from callscope.privacy.call_keys import seal_value
    from callscope.qa.insights import method_version
    from callscope.scoring.insight import search_codes as C
    from callscope.store.db import Call, CallInsight, RuleSetRow, SearchCode, SearchVectors, make_engine, migrate, session_factory

    problems, pv, everyday, ev = texts
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine, data_dir)
    rng = np.random.default_rng(27)
    picks = np.empty((n, per_call), np.int64)
    picks[:, 0] = rng.integers(0, len(problems), n)
    picks[:, 1:] = len(problems) + rng.integers(0, len(everyday), (n, per_call - 1))
    vectors_all = np.concatenate([pv, ev])
    texts_all = problems + everyday
    r = random.Random(7)
    ids, agents = [], []
    t0 = time.perf_counter()
    with sessions() as s:
        version = s.execute(select(RuleSetRow.version).where(RuleSetRow.active.is_(True))).scalar_one()
    for start in range(0, n, 1000):
        calls, search_rows, code_rows, insight_rows = [], [], [], []
        with sessions() as s:
            for k in range(start, min(n, start + 1000)):
                cid = str(uuid.uuid4())
                day = last_day - timedelta(days=r.randrange(DAYS))
                when = datetime(day.year, day.month, day.day, r.randrange(8, 20), r.randrange(60), tzinfo=UTC)
                agent = f"agent-{r.randrange(50)}"
                utts = [{"speaker": "B" if j % 2 == 0 else "A", "start": 4.0 * j, "end": 4.0 * j + 3.5,
                         "text": texts_all[i]} for j, i in enumerate(picks[k])]
                result = {"utterances": utts, "call_scores": {"roles": {"A": "agent", "B": "customer"}}}
                calls.append({"id": cid, "sha256": uuid.uuid4().hex * 2, "filename": seal_value(s, cid, "filename", f"call-{k}.wav"),
                              "audio_key": f"bench/{cid}", "size_bytes": 1, "agent_id": agent, "team": f"team-{r.randrange(5)}",
                              "queue": f"queue-{r.randrange(4)}", "status": "done", "recorded_at": when, "created_at": when,
                              "updated_at": when, "duration_s": 4.0 * per_call, "escalation": "green", "language": "en",
                              "rules_version": version, "result_json": seal_value(s, cid, "result_json", json.dumps(result))})
                v = vectors_all[picks[k]]
                search_rows.append({"call_id": cid, "version": f"bench+{C.VERSION}", "utterances": per_call,
                                    "vectors": seal_value(s, cid, "search.vectors", C.pack_vectors(v))})
                codes = C.codes(v)
                code_rows += [{"call_id": cid, "utterance": j, "code": codes[j].tobytes()} for j in range(per_call)]
                detail = {"problem": {"utterances": [0], "text": problems[picks[k, 0]]}, "reason": None,
                          "outcome": {"outcome": "unknown", "confidence": 0.5, "evidence": [], "detail": ""}, "summary": []}
                insight_rows.append({"call_id": cid, "rules_version": version, "reason": None, "reason_confidence": None,
                                     "outcome": "unknown", "outcome_confidence": 0.5, "version": method_version(),
                                     "basis": uuid.uuid4().hex, "detail_json": seal_value(s, cid, "insight.detail", json.dumps(detail)),
                                     "problem_vector": seal_value(s, cid, "insight.vector", base64.b64encode(
                                         pv[picks[k, 0]].astype(np.float16).tobytes()).decode())})
                ids.append(cid)
                agents.append(agent)
            s.execute(insert(Call), calls)
            s.execute(insert(SearchVectors), search_rows)
            s.execute(insert(SearchCode), code_rows)
            s.execute(insert(CallInsight), insight_rows)
            s.commit()
        if (start // 1000) % 10 == 9:
            print(f"  {start + 1000} calls stored ({time.perf_counter() - t0:.0f} s)", flush=True)
    engine.dispose()
    return picks, ids, agents


def _ms(samples: list[float]) -> dict:
    q = statistics.quantiles(samples, n=20)
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 1), "p95_ms": round(q[18], 1)}


def search_latency(svc: Service, key: str, queries: list[str], last_day: date) -> dict:
    import psutil

    out = {}
    with svc.client(key, timeout=300) as c:
        t0 = time.perf_counter()
        r = c.get("/v1/search", params={"q": queries[0]})
        assert r.status_code == 200, r.text
        out["first query (loads the encoder and the index)_ms"] = round(1000 * (time.perf_counter() - t0))
        assert svc.api is not None
        out["api_rss_mb_after_index"] = round(psutil.Process(svc.api.pid).memory_info().rss / 2**20)
        cases = {"all calls": {}, "one agent": {"agent_id": "agent-7"},
                 "last 7 days": {"from": (last_day - timedelta(days=6)).isoformat(), "to": last_day.isoformat()}}
        answers = {}
        for name, params in cases.items():
            ms = []
            for q in queries:
                t0 = time.perf_counter()
                r = c.get("/v1/search", params={"q": q, "limit": 10, **params})
                ms.append(1000 * (time.perf_counter() - t0))
                assert r.status_code == 200, r.text
                if name == "all calls":
                    answers[q] = [h["call_id"] for h in r.json()["results"]]
            out[name] = _ms(ms)
    return {"latency": out, "answers": answers}


def recall_at_10(answers: dict[str, list[str]], queries: list[str], qv: np.ndarray, picks: np.ndarray,
                 vectors_all: np.ndarray, ids: list[str]) -> float:
    """The share of the 10 calls returned that are among the 10 nearest by exact similarity. A
    problem statement recurs in about ``calls / 10,003`` calls, so the exact ranking has ties: a
    returned call counts when its exact similarity reaches the exact 10th best."""
    recalls = []
    position = {cid: k for k, cid in enumerate(ids)}
    for q, v in zip(queries, qv):
        sims = (vectors_all @ v)[picks].max(axis=1)
        tenth = float(np.sort(sims)[-10])
        got = answers[q][:10]
        recalls.append(sum(float(sims[position[c]]) >= tenth - 1e-4 for c in got) / 10)
    return round(float(np.mean(recalls)), 3)


def topic_runs(svc: Service, last_day: date) -> dict:
    out = {}
    for name, first in (("1 day", last_day), ("7 days", last_day - timedelta(days=6))):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", "import resource, runpy, sys; sys.argv=['callscope', 'topics', "
                               f"'--from', '{first.isoformat()}', '--to', '{last_day.isoformat()}']\n"
                               "try:\n from callscope.cli import app; app()\nexcept SystemExit: pass\n"
                               "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                              env=svc.env, capture_output=True, text=True, timeout=3600)
        wall = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr[-3000:]
        rss_kb = int(re.findall(r"MAXRSS (\d+)", done.stdout)[-1])
        summary = next((line for line in done.stdout.splitlines() if "problem statements" in line), "")
        out[name] = {"wall_s": round(wall, 1), "peak_rss_mb": round(rss_kb / 1024), "cli": summary.strip()}
    return out


def run_backend(name: str, url: str, data_dir: Path, args, texts, queries, qv, last_day) -> dict:
    print(f"{name}: storing {args.calls} calls", flush=True)
    t0 = time.perf_counter()
    picks, ids, _agents = build(url, data_dir, args.calls, args.per_call, last_day, texts)
    stored_s = time.perf_counter() - t0
    svc = Service(data_dir, url)
    key = admin_key(svc.env)
    svc.start_api("--no-worker")
    try:
        got = search_latency(svc, key, queries, last_day)
        recall = recall_at_10(got["answers"], queries, qv, picks, np.concatenate([texts[1], texts[3]]), ids)
        topics = topic_runs(svc, last_day)
    finally:
        svc.close()
    return {"calls": args.calls, "utterances": args.calls * args.per_call, "store_s": round(stored_s),
            "search": got["latency"], "recall_at_10": recall, "topics": topics}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--per-call", type=int, default=10)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "callscope-insight-scale-vectors.npz"
    texts = pool(cache)
    tests = _banking("test")
    queries = [tests[i] for i in np.random.default_rng(3).choice(len(tests), args.queries, replace=False)]
    from callscope.qa.meaning_search import query_vector

    qv = np.stack([query_vector(q) for q in queries])
    last_day = datetime.now(UTC).date() - timedelta(days=1)
    report: dict = {"machine": f"{os.cpu_count()} CPUs", "calls": args.calls, "per_call": args.per_call,
                    "queries": args.queries, "backends": {}}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"scale-{backend}-") as tmp:
            data_dir = Path(tmp) / "data"
            if backend == "sqlite":
                report["backends"][backend] = run_backend(backend, f"sqlite:///{data_dir / 'callscope.db'}", data_dir, args,
                                                          texts, queries, qv, last_day)
            else:
                with benchmark_database("insight_scale") as url:
                    report["backends"][backend] = run_backend(backend, url, data_dir, args, texts, queries, qv, last_day)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "insight_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'backend':<11} {'case':<14} {'p50 ms':>8} {'p95 ms':>8}")
    for backend, r in report["backends"].items():
        for case in ("all calls", "one agent", "last 7 days"):
            x = r["search"][case]
            print(f"{backend:<11} {case:<14} {x['p50_ms']:>8} {x['p95_ms']:>8}")
        print(f"{backend:<11} first query {r['search']['first query (loads the encoder and the index)_ms']} ms, API RSS "
              f"{r['search']['api_rss_mb_after_index']} MB, recall@10 {r['recall_at_10']}")
        for name, t in r["topics"].items():
            print(f"{backend:<11} topics {name:<7} {t['wall_s']:>7} s, peak {t['peak_rss_mb']} MB  {t['cli']}")
    print(f"wrote {RESULTS / 'insight_scale.json'}")


if __name__ == "__main__":
    main()
