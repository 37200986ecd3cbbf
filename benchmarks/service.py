"""The service under load, all real: uvicorn on 127.0.0.1, ``callscope worker`` processes,
SQLite and PostgreSQL.

1. Throughput: six real phone/meeting recordings (6.7 min of audio) uploaded in one request to
   ``serve --no-worker``; ``callscope worker -n K`` (faster-whisper tiny.en, CPU) analyses them.
   The clock starts once every worker has loaded its models, so it counts upload, queueing and
   analysis. Reported as calls/hour per worker and audio hours per hour, for K = 1 and 2.
2. API latency with 10,000 stored calls: the six real analyses from step 1, each stored again
   under synthetic metadata (50 agents, 5 teams, 4 queues, 5 products, 30 days) until there are
   10,000 calls; then sequential requests from one client: ``GET /v1/calls/{id}`` (random ids)
   and ``GET /v1/aggregates`` (each group_by, 7-day window). p50/p95 in milliseconds, SQLite and
   PostgreSQL (a throwaway server from Debian's package, or CALLSCOPE_TEST_POSTGRES_URL).

    .venv/bin/python benchmarks/service.py [--calls 10000] [--gets 1000] [--aggregates 100] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402
from tests.support.server import Service, admin_key  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALLS = ["spokenwoz/MUL1011.opus", "callytics/Call01.wav", "telephone_codecs/Call01_mulaw_8k.wav",
         "callytics/CSR01.wav", "pyannote_sample/sample.wav", "telephone_codecs/pyannote_sample_mulaw_8k.wav"]
GROUPS = ("agent", "team", "queue", "day", "product")


def _start_workers(svc: Service, n: int) -> subprocess.Popen:
    """``callscope worker -n N``; returns once every worker has loaded its models."""
    proc = subprocess.Popen([sys.executable, "-m", "callscope.cli", "worker", "-n", str(n)], env=svc.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = 0
    for line in proc.stderr:
        ready += " ready" in line
        if ready == n:
            break
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # keep the pipe drained
    if ready < n:
        raise RuntimeError(f"workers exited before they were ready (rc {proc.wait()})")
    return proc


def throughput(workers: int, root: Path) -> tuple[dict, Path]:
    svc = Service(root / f"throughput-{workers}")
    key = admin_key(svc.env)
    svc.start_api("--no-worker")
    pool = _start_workers(svc, workers)
    svc.workers.append(pool)
    try:
        files = [("files", (Path(name).name, (AUDIO / name).read_bytes())) for name in CALLS]
        with svc.client(key, timeout=120) as c:
            t0 = time.perf_counter()
            ids = [x["id"] for x in c.post("/v1/calls", files=files).json()["calls"]]
            finished: dict[str, float] = {}
            while len(finished) < len(ids):
                for i in ids:
                    if i not in finished and c.get(f"/v1/calls/{i}").json()["status"] in ("done", "failed"):
                        finished[i] = time.perf_counter() - t0
                time.sleep(0.2)
            wall = max(finished.values())
            bodies = [c.get(f"/v1/calls/{i}").json() for i in ids]
    finally:
        svc.close()
    audio_s = sum(b["duration_s"] or 0 for b in bodies)
    row = {"workers": workers, "calls": len(ids), "done": sum(b["status"] == "done" for b in bodies),
           "audio_s": round(audio_s, 1), "wall_s": round(wall, 1),
           "calls_per_hour": round(len(ids) / wall * 3600, 1),
           "calls_per_hour_per_worker": round(len(ids) / wall * 3600 / workers, 1),
           "audio_hours_per_hour": round(audio_s / wall, 2)}
    return row, svc.data_dir


def _real_results(db_url: str) -> list[dict]:
    """The analysed calls of the SQLite service database at ``db_url``, their sealed columns opened
    with the keyring beside it: templates that any other deployment can store (in clear; the
    service seals them at its start)."""
    from sqlalchemy import text

    from callscope.privacy.call_keys import CALL_FIELDS, open_value
    from callscope.store.db import make_engine, session_factory

    engine = make_engine(db_url)
    with session_factory(engine, Path(db_url.removeprefix("sqlite:///")).parent)() as s:
        rows = [dict(r) for r in s.execute(text("SELECT * FROM calls WHERE status = 'done' ORDER BY id")).mappings()]
        for r in rows:
            r.update({f: open_value(s, r["id"], f, r[f]) for f in CALL_FIELDS})
    engine.dispose()
    return rows


def seed(db_url: str, templates: list[dict], n: int, last_day: date) -> list[str]:
    """Store ``n`` calls, each a copy of one real analysis with synthetic metadata; their ids."""
    from sqlalchemy import insert

    from callscope.store.db import Call, make_engine, migrate, session_factory

    migrate(db_url)
    sessions = session_factory(make_engine(db_url))
    rng = random.Random(7)
    ids, batch = [], []
    keep = [c.name for c in Call.__table__.columns if c.name not in ("id", "external_id", "agent_id", "team", "queue",
                                                                        "product", "recorded_at", "created_at", "updated_at")]
    now = datetime.now(timezone.utc)
    for k in range(n):
        t = templates[k % len(templates)]
        cid = str(uuid.uuid4())
        ids.append(cid)
        day = last_day - timedelta(days=rng.randrange(30))
        batch.append({**{c: t[c] for c in keep}, "id": cid, "external_id": f"bench-{k}", "agent_id": f"agent-{rng.randrange(50)}",
                      "team": f"team-{rng.randrange(5)}", "queue": f"queue-{rng.randrange(4)}", "product": f"product-{rng.randrange(5)}",
                      "recorded_at": datetime(day.year, day.month, day.day, rng.randrange(8, 20), rng.randrange(60), tzinfo=timezone.utc),
                      "created_at": now, "updated_at": now})
        if len(batch) == 1000:
            with sessions() as s:
                s.execute(insert(Call), batch)
                s.commit()
            batch = []
    if batch:
        with sessions() as s:
            s.execute(insert(Call), batch)
            s.commit()
    return ids


def _percentiles(ms: list[float]) -> dict:
    q = statistics.quantiles(ms, n=100)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(q[94], 2), "mean_ms": round(statistics.fmean(ms), 2)}


def latency(backend: str, db_url: str, data_dir: Path, ids: list[str], gets: int, aggregates: int, last_day: date) -> dict:
    svc = Service(data_dir, db_url)
    key = admin_key(svc.env)
    svc.start_api("--no-worker")
    rng = random.Random(11)
    try:
        with svc.client(key) as c:
            for _ in range(20):  # warm-up: connections, caches
                c.get(f"/v1/calls/{rng.choice(ids)}")
            call_ms = []
            for _ in range(gets):
                t0 = time.perf_counter()
                r = c.get(f"/v1/calls/{rng.choice(ids)}")
                call_ms.append(1000 * (time.perf_counter() - t0))
                assert r.status_code == 200 and "scores" in r.json()
            agg_ms = []
            for k in range(aggregates):
                params = {"group_by": GROUPS[k % len(GROUPS)], "from": (last_day - timedelta(days=6)).isoformat(),
                          "to": last_day.isoformat()}
                t0 = time.perf_counter()
                r = c.get("/v1/aggregates", params=params)
                agg_ms.append(1000 * (time.perf_counter() - t0))
                assert r.status_code == 200 and r.json()["groups"]
    finally:
        svc.close()
    return {"backend": backend, "stored_calls": len(ids), "get_call": _percentiles(call_ms), "aggregates": _percentiles(agg_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000, help="stored calls for the latency runs")
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--aggregates", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=RESULTS / "service.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="callscope-bench-"))

    rows, data_dir = [], None
    for k in args.workers:
        row, data_dir = throughput(k, root)
        rows.append(row)
    print(f"Throughput: {len(CALLS)} real recordings, faster-whisper tiny.en beam 5, CPU ({os.cpu_count()} cores)")
    print(f"{'workers':>7} {'done':>5} {'audio s':>8} {'wall s':>7} {'calls/h':>8} {'calls/h/worker':>15} {'audio h/h':>10}")
    for r in rows:
        print(f"{r['workers']:>7} {r['done']:>5} {r['audio_s']:>8.1f} {r['wall_s']:>7.1f} {r['calls_per_hour']:>8.1f}"
              f" {r['calls_per_hour_per_worker']:>15.1f} {r['audio_hours_per_hour']:>10.2f}")

    templates = _real_results(f"sqlite:///{data_dir / 'callscope.db'}")
    last_day = date(2026, 11, 20)
    lat = []
    sqlite_dir = root / "latency-sqlite"
    sqlite_url = f"sqlite:///{sqlite_dir / 'callscope.db'}"
    lat.append(latency("sqlite", sqlite_url, sqlite_dir, seed(sqlite_url, templates, args.calls, last_day),
                       args.gets, args.aggregates, last_day))
    from tests.support.postgres import benchmark_database

    with benchmark_database("callscope_bench") as pg_url:
        lat.append(latency("postgresql", pg_url, root / "latency-pg", seed(pg_url, templates, args.calls, last_day),
                           args.gets, args.aggregates, last_day))
    print(f"\nAPI latency, {args.calls} stored calls, one sequential client (ms)")
    print(f"{'backend':>10} {'endpoint':>22} {'n':>5} {'p50':>8} {'p95':>8} {'mean':>8}")
    for r in lat:
        for endpoint, label in (("get_call", "GET /v1/calls/{id}"), ("aggregates", "GET /v1/aggregates")):
            m = r[endpoint]
            print(f"{r['backend']:>10} {label:>22} {m['n']:>5} {m['p50_ms']:>8.1f} {m['p95_ms']:>8.1f} {m['mean_ms']:>8.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "service", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "cpu_count": os.cpu_count(), "recordings": CALLS, "throughput": rows,
                                    "latency": lat}, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
